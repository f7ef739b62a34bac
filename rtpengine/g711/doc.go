// Package g711 converts between 16-bit linear PCM and G.711 A-law (PCMA)
// and µ-law (PCMU), the codecs of nearly every phone call, in pure Go. The
// values are those of the ITU reference (Sun's g711.c, as in CPython's
// audioop), byte for byte.
package g711
