package main

import (
	"errors"
	"fmt"

	"moderation/internal/service"
)

// checkNATSFlags refuses NATS settings that cannot mean what the operator
// wants: credentials for an external server while embedding one (the
// embedded server makes its own, in <data-dir>/nats), or a certificate for
// the embedded server while joining an external one.
func checkNATSFlags(cfg service.Config) error {
	ext := cfg.NATSExternal
	if cfg.NATSURL == "" {
		for _, f := range []struct{ name, value string }{
			{"-nats-creds", ext.Creds}, {"-nats-nkey", ext.NKeySeed}, {"-nats-cert", ext.Cert}, {"-nats-key", ext.Key},
		} {
			if f.value != "" {
				return fmt.Errorf("flag %s: only with -nats-url; the embedded server creates its own credentials in <data-dir>/nats", f.name)
			}
		}
	} else if cfg.NATSTLSCert != "" || cfg.NATSTLSKey != "" {
		return errors.New("flags -nats-tls-cert and -nats-tls-key: for the embedded server, not with -nats-url (use -nats-ca, -nats-cert and -nats-key)")
	}
	if (cfg.NATSTLSCert == "") != (cfg.NATSTLSKey == "") {
		return errors.New("flags -nats-tls-cert and -nats-tls-key go together")
	}
	if (ext.Cert == "") != (ext.Key == "") {
		return errors.New("flags -nats-cert and -nats-key go together")
	}
	if ext.Creds != "" && ext.NKeySeed != "" {
		return errors.New("flags -nats-creds and -nats-nkey: one or the other")
	}
	return nil
}
