// Package bencode encodes and decodes bencode, the format of rtpengine's ng
// control protocol: byte strings, integers, lists and dictionaries.
//
// Decoding is strict and bounded: a malformed, oversized or too deeply
// nested input is an error, never a panic or an allocation larger than the
// input, so a datagram from anyone on the network can be handed to it.
package bencode
