//! Who may send an upload's body now: a per-owner limit on uploads in flight, and a
//! process-wide budget of upload bytes held in memory.
//!
//! An upload's body is held whole in memory from its first byte to the end of its checks and
//! its PUT, and a slow sender holds it for the whole upload timeout: without a bound, one
//! account's burst of large uploads is the process's memory. Both limits answer at once,
//! before a byte of the body is read: past its own limit an owner gets `429
//! too_many_uploads`; past the budget anyone gets `503 uploads_busy`, each with
//! `Retry-After`. A body declared with `Content-Length` takes its whole size from the budget
//! up front; a chunked body takes what its buffer grows to, as it grows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::ApiError;

/// The budget's unit: permits count KiB, so a budget of any size fits a semaphore's permits
/// and one permit is never worth more than a rounding.
const UNIT: u64 = 1024;

/// The limits of uploads in flight, shared by every upload request of the process.
#[derive(Debug)]
pub(super) struct Admission {
    budget: Arc<Semaphore>,
    per_owner: u32,
    in_flight: Arc<Mutex<HashMap<Uuid, u32>>>,
}

impl Admission {
    /// `budget_bytes` of bodies at once, and `per_owner` uploads of one owner at once.
    pub(super) fn new(budget_bytes: u64, per_owner: u32) -> Admission {
        let units = usize::try_from(budget_bytes / UNIT)
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS);
        Admission {
            budget: Arc::new(Semaphore::new(units)),
            per_owner,
            in_flight: Arc::default(),
        }
    }

    /// One more upload of `owner`, or `too_many_uploads` when it has its limit in flight.
    pub(super) fn enter(&self, owner: Uuid) -> Result<OwnerSlot, ApiError> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = in_flight.entry(owner).or_default();
        if *count >= self.per_owner {
            metrics::counter!("imgedge_upload_refusals_total", "reason" => "owner").increment(1);
            return Err(ApiError::TooManyUploads);
        }
        *count += 1;
        Ok(OwnerSlot {
            in_flight: Arc::clone(&self.in_flight),
            owner,
        })
    }

    /// A charge of `bytes` against the budget, or `uploads_busy` when they are not free.
    pub(super) fn charge(&self, bytes: u64) -> Result<Charge, ApiError> {
        let mut charge = Charge {
            budget: Arc::clone(&self.budget),
            permit: None,
        };
        charge.grow_to(bytes)?;
        Ok(charge)
    }
}

/// An upload of one owner in flight; dropping it ends the upload.
#[derive(Debug)]
pub(super) struct OwnerSlot {
    in_flight: Arc<Mutex<HashMap<Uuid, u32>>>,
    owner: Uuid,
}

impl Drop for OwnerSlot {
    fn drop(&mut self) {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = in_flight.get_mut(&self.owner) {
            *count -= 1;
            if *count == 0 {
                in_flight.remove(&self.owner);
            }
        }
    }
}

/// Bytes of the budget an upload holds; dropping it gives them back.
#[derive(Debug)]
pub(super) struct Charge {
    budget: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Charge {
    /// The bytes charged, rounded up to the unit.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> u64 {
        self.permit
            .as_ref()
            .map_or(0, |p| p.num_permits() as u64 * UNIT)
    }

    /// Takes more of the budget, so that the charge covers `bytes`; `uploads_busy` (and the
    /// charge unchanged) when the budget does not have them.
    pub(super) fn grow_to(&mut self, bytes: u64) -> Result<(), ApiError> {
        let held = self
            .permit
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits);
        let wanted = usize::try_from(bytes.div_ceil(UNIT)).unwrap_or(usize::MAX);
        let Some(more) = wanted.checked_sub(held).filter(|&more| more > 0) else {
            return Ok(());
        };
        let more = u32::try_from(more).map_err(|_| busy())?;
        let extra = Arc::clone(&self.budget)
            .try_acquire_many_owned(more)
            .map_err(|_| busy())?;
        match &mut self.permit {
            Some(permit) => permit.merge(extra),
            None => self.permit = Some(extra),
        }
        Ok(())
    }

    /// Gives back what the charge holds above `bytes`.
    pub(super) fn shrink_to(&mut self, bytes: u64) {
        let keep = usize::try_from(bytes.div_ceil(UNIT)).unwrap_or(usize::MAX);
        if let Some(permit) = &mut self.permit {
            let held = permit.num_permits();
            if held > keep {
                drop(permit.split(held - keep));
            }
        }
    }
}

fn busy() -> ApiError {
    metrics::counter!("imgedge_upload_refusals_total", "reason" => "budget").increment(1);
    ApiError::UploadsBusy
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn an_owner_has_its_own_limit() {
        let admission = Admission::new(64 * MIB, 2);
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let first = admission.enter(alice).expect("first");
        let _second = admission.enter(alice).expect("second");
        assert!(matches!(
            admission.enter(alice),
            Err(ApiError::TooManyUploads)
        ));
        let _bobs = admission.enter(bob).expect("another owner is not affected");
        drop(first);
        admission
            .enter(alice)
            .expect("a slot freed by an upload's end");
    }

    #[test]
    fn the_budget_is_shared_and_given_back() {
        let admission = Admission::new(10 * MIB, 4);
        let mut a = admission.charge(6 * MIB).expect("6 of 10");
        assert!(matches!(
            admission.charge(5 * MIB),
            Err(ApiError::UploadsBusy)
        ));
        let b = admission.charge(4 * MIB).expect("4 of the last 4");
        assert!(a.grow_to(7 * MIB).is_err(), "nothing left to grow into");
        assert_eq!(a.bytes(), 6 * MIB, "a refused growth keeps the charge");
        a.shrink_to(MIB);
        assert_eq!(a.bytes(), MIB);
        a.grow_to(6 * MIB).expect("what shrinking gave back");
        drop(b);
        drop(a);
        assert_eq!(
            admission.charge(10 * MIB).expect("all of it").bytes(),
            10 * MIB
        );
    }
}
