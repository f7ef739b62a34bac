// Command callguard is the desktop companion contact-centre officers run
// beside their softphone so that call recordings respect data-protection law.
package main
