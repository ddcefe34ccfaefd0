//! The owned, safe handle on a libvips image, and the helpers every operation uses.

use std::ffi::c_int;
use std::ptr::{self, NonNull};

use super::ffi::{
    INTERPRETATION_B_W, TRUE, VipsArea, VipsImage, g_object_ref, g_object_unref, vips_area_unref,
    vips_array_double_new, vips_array_int_new, vips_image_copy_memory, vips_image_get_bands,
    vips_image_get_height, vips_image_get_interpretation, vips_image_get_width,
    vips_image_hasalpha, vips_image_set_kill,
};
use super::setup::{VipsError, last_error};

/// An owned reference to a `VipsImage`. Dropping it releases the reference.
#[derive(Debug)]
pub(crate) struct Image(pub(crate) NonNull<VipsImage>);

// SAFETY: GObject reference counting is atomic and libvips images may be handed between
// threads; an `Image` is not `Sync`, so no two threads use one handle at once.
unsafe impl Send for Image {}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: we own exactly one reference to a live GObject.
        unsafe { g_object_unref(self.0.as_ptr().cast()) }
    }
}

impl Clone for Image {
    fn clone(&self) -> Self {
        // SAFETY: taking another reference to a live GObject.
        unsafe { g_object_ref(self.0.as_ptr().cast()) };
        Image(self.0)
    }
}

/// Runs a libvips operation that writes an image to `out`, turning its status into a Result.
pub(crate) fn image_op(
    op: &'static str,
    call: impl FnOnce(*mut *mut VipsImage) -> c_int,
) -> Result<Image, VipsError> {
    let mut out: *mut VipsImage = ptr::null_mut();
    let status = call(&raw mut out);
    match NonNull::new(out) {
        Some(image) if status == 0 => Ok(Image(image)),
        Some(image) => {
            drop(Image(image));
            Err(last_error(op))
        }
        None => Err(last_error(op)),
    }
}

/// A `VipsArrayDouble` that lives for one call.
pub(crate) struct DoubleArray(pub(crate) *mut VipsArea);

impl DoubleArray {
    pub(crate) fn new(values: &[f64]) -> Self {
        // SAFETY: libvips copies `values` into a new reference-counted area.
        DoubleArray(unsafe { vips_array_double_new(values.as_ptr(), values.len() as c_int) })
    }
}

impl Drop for DoubleArray {
    fn drop(&mut self) {
        // SAFETY: releases the reference taken by vips_array_double_new.
        unsafe { vips_area_unref(self.0) }
    }
}

/// A `VipsArrayInt` that lives for one call.
pub(crate) struct IntArray(pub(crate) *mut VipsArea);

impl IntArray {
    pub(crate) fn new(values: &[i32]) -> Self {
        // SAFETY: libvips copies `values` into a new reference-counted area.
        IntArray(unsafe { vips_array_int_new(values.as_ptr(), values.len() as c_int) })
    }
}

impl Drop for IntArray {
    fn drop(&mut self) {
        // SAFETY: releases the reference taken by vips_array_int_new.
        unsafe { vips_area_unref(self.0) }
    }
}

impl Image {
    pub(crate) fn ptr(&self) -> *mut VipsImage {
        self.0.as_ptr()
    }

    pub(crate) fn width(&self) -> u32 {
        // SAFETY: getter on a live image.
        unsafe { vips_image_get_width(self.ptr()).max(0) as u32 }
    }

    pub(crate) fn height(&self) -> u32 {
        // SAFETY: getter on a live image.
        unsafe { vips_image_get_height(self.ptr()).max(0) as u32 }
    }

    pub(crate) fn bands(&self) -> u32 {
        // SAFETY: getter on a live image.
        unsafe { vips_image_get_bands(self.ptr()).max(0) as u32 }
    }

    pub(crate) fn has_alpha(&self) -> bool {
        // SAFETY: getter on a live image.
        unsafe { vips_image_hasalpha(self.ptr()) != 0 }
    }

    /// Whether pixels are one grey band (plus alpha) rather than colour.
    pub(crate) fn is_grey(&self) -> bool {
        // SAFETY: getter on a live image.
        unsafe { vips_image_get_interpretation(self.ptr()) == INTERPRETATION_B_W }
    }

    /// Computes every pixel into memory, so that later steps may read them in any order.
    /// A sequential decode (how renders load their originals) hands out lines top to
    /// bottom once; a rotation or a vertical flip asks for them out of order and would fail
    /// with "out of order read". Sharp copies to memory before such steps for the same reason.
    pub(crate) fn copy_memory(&self) -> Result<Image, VipsError> {
        // SAFETY: valid input image; copy_memory returns a new reference (to a memory image
        // holding its own pixels) or NULL with libvips' error buffer set.
        let copied = unsafe { vips_image_copy_memory(self.ptr()) };
        NonNull::new(copied)
            .map(Image)
            .ok_or_else(|| last_error("copy_memory"))
    }

    /// Asks any evaluation of this image to stop with an error. Safe to call from another
    /// thread while the image is being computed: libvips checks the flag between tiles.
    pub(crate) fn kill(&self) {
        // SAFETY: sets a flag on a live image; libvips reads it racily by design.
        unsafe { vips_image_set_kill(self.ptr(), TRUE) }
    }
}
