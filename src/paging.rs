//! Paging of lists: `limit` and `offset` with the total, the same for every list, REST and
//! GraphQL. REST answers the page as the body and `X-Total-Count` plus an RFC 8288 `Link`
//! header (`rel="next"`, `rel="prev"`); GraphQL lists take `limit`/`offset` and have a
//! `...Count` field beside them.

use crate::error::{AppError, AppResult};

/// Page size when none is asked for, and the largest allowed.
pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

/// Which page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub offset: i64,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl PageRequest {
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> AppResult<PageRequest> {
        Self::with_default(limit, offset, DEFAULT_LIMIT)
    }

    /// Like [`PageRequest::new`], with another page size by default (reference lists, which
    /// fit in one page of [`MAX_LIMIT`]).
    pub fn with_default(
        limit: Option<i64>,
        offset: Option<i64>,
        default: i64,
    ) -> AppResult<PageRequest> {
        let limit = limit.unwrap_or(default);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::validation(
                "limit",
                "out_of_range",
                format!("limit is 1..{MAX_LIMIT}"),
            ));
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(AppError::validation(
                "offset",
                "out_of_range",
                "offset is >= 0",
            ));
        }
        Ok(PageRequest { limit, offset })
    }

    /// The page of a list held in memory.
    pub fn slice<T>(&self, items: Vec<T>) -> Page<T> {
        let total = items.len() as i64;
        let items = items
            .into_iter()
            .skip(self.offset as usize)
            .take(self.limit as usize)
            .collect();
        Page {
            items,
            total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// One page and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl<T> Page<T> {
    pub fn has_next(&self) -> bool {
        self.offset + (self.items.len() as i64) < self.total
    }
}
