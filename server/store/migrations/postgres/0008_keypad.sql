-- Keypad tones (issue 20): the stretches of keypad tones the desktop's
-- recorder silenced in the call's recording ("keypad tones masked"), from
-- its keypad.masked events: how many, and when (JSON [{at, from_ms,
-- to_ms}], for the call's timeline). Keys are nowhere.
ALTER TABLE calls ADD COLUMN keypad_masked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN keypad_masks TEXT NOT NULL DEFAULT '[]';
