-- The identity check of a vote (does the turn name a model?) is made once,
-- when the turn ends, off the writer thread: the word found, or NULL, and
-- whether the check was made (turns stored before this schema were not:
-- their texts are scanned at the vote, as before).
ALTER TABLE turns ADD COLUMN identity TEXT;
ALTER TABLE turns ADD COLUMN identity_checked INTEGER NOT NULL DEFAULT 0;
