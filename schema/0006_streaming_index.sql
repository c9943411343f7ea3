-- At start, battles left streaming by a crash are marked failed: find
-- them without scanning every battle.
CREATE INDEX battles_streaming ON battles (status) WHERE status = 'streaming';
