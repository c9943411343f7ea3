-- The models' reasoning (reasoning_content), kept apart from their answers:
-- never part of answer_a / answer_b, NULL when a model sent none.
ALTER TABLE turns ADD COLUMN reasoning_a TEXT;
ALTER TABLE turns ADD COLUMN reasoning_b TEXT;
