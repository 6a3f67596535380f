-- Reference (a): a primary-key select of a session-sized row (see reference.sql).
\set id random(1, 10000)
SELECT * FROM ref_sessions WHERE id = :id;
