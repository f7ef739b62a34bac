package main

import (
	"time"

	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/sip"
)

// sipFromSettings is the sip.Config for the officer's phone_system settings
// and the SIP password from the keyring. It lives in the composition root so
// that sip knows nothing of the settings file.
func sipFromSettings(p config.PhoneSystem, password string) sip.Config {
	return sip.Config{
		Address:   p.Address,
		Transport: p.Transport,
		Extension: p.Extension,
		Domain:    p.Domain,
		AuthUser:  p.AuthUser,
		Password:  password,
		CAFile:    p.CAFile,
		Expires:   time.Duration(p.Expires) * time.Second,
		KeepAlive: time.Duration(p.KeepAliveMS) * time.Millisecond,
	}
}
