// Package central wires the server's parts (store, blobs, live board, HTTP
// API) into one running server. The command callguard-server and the
// desktop app's embedded mode both start the server through Open; only the
// embedded mode may enrol its local agent without a password (EnrollLocal).
package central
