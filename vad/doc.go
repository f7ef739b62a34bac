// Package vad decides, frame by frame, whether someone is speaking on one
// channel of a recording, from the frame's energy alone: it listens to
// nothing, keeps no audio and hands on only yes or no per 20 ms frame, as
// run lengths (artefact.VoiceRuns). It never decides on a frame it was not
// given: a paused stretch is skipped, never analysed, and never voiced.
package vad
