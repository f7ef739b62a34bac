package main

import (
	"testing"
	"time"

	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/sip"
)

func TestFromSettings(t *testing.T) {
	got := sipFromSettings(config.PhoneSystem{Address: "pbx:5061", Transport: "tls", Extension: "1001", Domain: "example.org",
		AuthUser: "u1001", CAFile: "/ca.pem", Expires: 300, KeepAliveMS: 1500}, "pw")
	want := sip.Config{Address: "pbx:5061", Transport: "tls", Extension: "1001", Domain: "example.org",
		AuthUser: "u1001", Password: "pw", CAFile: "/ca.pem", Expires: 5 * time.Minute, KeepAlive: 1500 * time.Millisecond}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
