-- `issued_by` records which staff member stamped or redeemed; it is history, not a link.
-- As a foreign key, every stamp took a KEY SHARE lock on the staff member's users row, and
-- with many concurrent stamps by one barista PostgreSQL had to keep multixact lock records
-- for that row (docs/performance.md). An id of a since-deleted staff account simply stays.
ALTER TABLE stamp_events DROP CONSTRAINT stamp_events_issued_by_fkey;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_issued_by_fkey;
