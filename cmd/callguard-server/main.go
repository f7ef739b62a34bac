// Command callguard-server is callguard's central server.
package main

var version = "dev"

func main() {}
