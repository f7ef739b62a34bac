// Package pcap reads and writes classic libpcap capture files (the format
// rtpengine records calls in) and takes UDP datagrams out of their frames:
// Ethernet, raw IP, BSD loopback and Linux cooked captures, IPv4 and IPv6.
//
// Reading never trusts the file: a record longer than the snapshot length
// or than what is left is an error, never a large allocation, and a file
// cut short in its last record (a recorder that crashed) gives every whole
// record before the cut and then ErrTruncated.
package pcap
