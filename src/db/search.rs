//! An owner's images, filtered and sorted, a keyset page at a time.
//!
//! Each statement walks one index in date order and stops after its page, so a first page
//! and a page 100 deep cost about the same at 200,000 images as at 100: a tag filter walks
//! `image_tags (owner_id, tag, created_at, image_id)` (one walk per tag, merged), words (`q`, without a tag) `image_words` the same way (the query's first
//! word; the whole query is checked on the image's `search`), a format filter
//! `images_owner_format_created_idx`, anything else `images_owner_created_idx`.

use sqlx::{Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use super::images::columns;
use super::{Db, DbError, Image, PageCursor};

/// `q` split into words as `images.search` splits a file name (`0007_image_details.sql`):
/// `sunset.jpg` is the words `sunset` and `jpg` on both sides. The bound text goes between.
const WORDS_OF: &str = "regexp_replace(";
const WORDS_OF_END: &str = ", '[^[:alnum:]]+', ' ', 'g')";

/// Which way a listing runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// What a listing keeps: every condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFilter {
    /// Tags the image must all have (slugs).
    pub tags: Vec<String>,
    /// A source format name (`jpeg`, `png`, …).
    pub format: Option<String>,
    /// Created strictly after.
    pub created_after: Option<OffsetDateTime>,
    /// Created strictly before.
    pub created_before: Option<OffsetDateTime>,
    /// Words that must all appear in the title, the alt text or the file name.
    pub words: Option<String>,
    pub order: SortOrder,
}

impl Db {
    /// Up to `limit` of `owner`'s images that pass `filter`, in its order (ties broken by
    /// id), starting strictly after `after`. The next page's cursor is the last item's
    /// [`Image::cursor`]; a page shorter than `limit` is the last one.
    pub async fn search_images(
        &self,
        owner: Uuid,
        filter: &ImageFilter,
        limit: u32,
        after: Option<&PageCursor>,
    ) -> Result<Vec<Image>, DbError> {
        let mut sql = QueryBuilder::<Postgres>::new(concat!("SELECT ", columns!()));
        // The columns the walk is ordered by: the tag table's when a tag drives it, so
        // the order comes from its index.
        let (at, id) = if let Some((first, rest)) = filter.tags.split_first() {
            sql.push(" FROM image_tags AS t");
            // Each further tag is its own walk of the same index in the same order, joined
            // on `(created_at, image_id)`: PostgreSQL merges the ordered walks and stops at
            // the page, reading index entries only, where checking each candidate image's
            // row for the other tags would fetch a row per image of the first tag.
            for (i, tag) in rest.iter().enumerate() {
                sql.push(format_args!(
                    " JOIN image_tags AS t{i} ON t{i}.owner_id = t.owner_id \
                     AND t{i}.created_at = t.created_at AND t{i}.image_id = t.image_id \
                     AND t{i}.tag = "
                ))
                .push_bind(tag.clone());
            }
            sql.push(" JOIN images ON images.id = t.image_id WHERE t.owner_id = ")
                .push_bind(owner)
                .push(" AND t.tag = ")
                .push_bind(first.clone());
            ("t.created_at", "t.image_id")
        } else if let Some(words) = &filter.words {
            sql.push(
                " FROM image_words AS w JOIN images ON images.id = w.image_id \
                 WHERE w.owner_id = ",
            )
            .push_bind(owner)
            .push(" AND w.word = (tsvector_to_array(to_tsvector('simple', ")
            .push(WORDS_OF)
            .push_bind(words.clone())
            .push(WORDS_OF_END)
            .push(")))[1]");
            ("w.created_at", "w.image_id")
        } else {
            sql.push(" FROM images WHERE images.owner_id = ")
                .push_bind(owner);
            ("images.created_at", "images.id")
        };
        if let Some(format) = &filter.format {
            sql.push(" AND images.format = ").push_bind(format.clone());
        }
        if let Some(words) = &filter.words {
            sql.push(" AND images.search @@ plainto_tsquery('simple', ")
                .push(WORDS_OF)
                .push_bind(words.clone())
                .push(WORDS_OF_END)
                .push(")");
        }
        if let Some(time) = filter.created_after {
            sql.push(format_args!(" AND {at} > ")).push_bind(time);
        }
        if let Some(time) = filter.created_before {
            sql.push(format_args!(" AND {at} < ")).push_bind(time);
        }
        let (beyond, direction) = match filter.order {
            SortOrder::NewestFirst => ("<", "DESC"),
            SortOrder::OldestFirst => (">", "ASC"),
        };
        if let Some(cursor) = after {
            sql.push(format_args!(" AND ({at}, {id}) {beyond} ("))
                .push_bind(cursor.created_at)
                .push(", ")
                .push_bind(cursor.id)
                .push(")");
        }
        sql.push(format_args!(
            " ORDER BY {at} {direction}, {id} {direction} LIMIT "
        ))
        .push_bind(i64::from(limit));
        Ok(sql.build_query_as::<Image>().fetch_all(&self.pool).await?)
    }
}
