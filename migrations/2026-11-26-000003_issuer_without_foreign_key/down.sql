UPDATE stamp_events SET issued_by = NULL WHERE issued_by NOT IN (SELECT id FROM users);
UPDATE redemptions SET issued_by = NULL WHERE issued_by NOT IN (SELECT id FROM users);
ALTER TABLE stamp_events ADD CONSTRAINT stamp_events_issued_by_fkey FOREIGN KEY (issued_by) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE redemptions ADD CONSTRAINT redemptions_issued_by_fkey FOREIGN KEY (issued_by) REFERENCES users (id) ON DELETE SET NULL;
