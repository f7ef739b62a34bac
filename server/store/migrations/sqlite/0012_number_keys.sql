-- Numbers keyed in E.164. Holds, erasures and the calls they match are
-- keyed by server.NumberKey, which is now E.164 for a whole number: before,
-- "07700 900123" and "+44 7700 900123" were two keys, and a hold or an
-- erasure written one way missed the calls the phone system wrote the
-- other. SQL cannot run server.E164, so the store re-keys the rows after
-- this migration (rekeyNumbers) and deletes this task in the transaction
-- of its last step: an interrupted re-keying starts again at the next open.
CREATE TABLE store_tasks (name TEXT PRIMARY KEY);
INSERT INTO store_tasks (name) VALUES ('rekey-numbers');
