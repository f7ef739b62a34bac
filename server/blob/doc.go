// Package blob keeps the encrypted recordings and their manifests on disk
// under the server's data directory. Uploads grow a partial file chunk by
// chunk (each chunk fsync'd before it is confirmed); a recording becomes
// stored only when the sha256 its manifest names matches the bytes, by
// fsync and rename, so a crash never leaves a half-written recording that
// looks complete. It never decrypts anything, and, given an upload check,
// never keeps a byte of a call whose deletion has begun.
package blob
