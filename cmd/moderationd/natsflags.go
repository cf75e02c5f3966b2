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
	return checkClusterFlags(cfg)
}

// checkClusterFlags refuses cluster settings for a server that is not
// embedded or not clustered, and replicas a lone server cannot keep.
func checkClusterFlags(cfg service.Config) error {
	cl := cfg.NATSCluster
	switch {
	case cfg.NATSURL != "" && (cl.Clustered() || len(cl.Routes) > 0 || cl.ServerName != ""):
		return errors.New("flags -nats-cluster-listen, -nats-routes and -nats-server-name: for the embedded server, not with -nats-url (which may name a cluster itself)")
	case !cl.Clustered() && (len(cl.Routes) > 0 || cl.ServerName != ""):
		return errors.New("flags -nats-routes and -nats-server-name: only with -nats-cluster-listen")
	case cl.Clustered() && len(cl.Routes) == 0:
		return errors.New("flag -nats-cluster-listen needs -nats-routes: every member's route address, this one's included")
	case cfg.Replicas < 0:
		return fmt.Errorf("flag -replicas: got %d, want 0 (the default) or more", cfg.Replicas)
	case cfg.Replicas > 1 && cfg.NATSURL == "" && !cl.Clustered():
		return fmt.Errorf("flag -replicas %d: the embedded server alone keeps one copy; make it a cluster member (-nats-cluster-listen) or use a cluster (-nats-url)", cfg.Replicas)
	}
	return nil
}

// defaultReplicas is how many copies JetStream keeps when -replicas is not
// given: three on an embedded cluster member, which is what a cluster is
// for (one member may be lost); one on a lone server. An external server
// may be a cluster or not, which the flags do not say: one, unless
// -replicas says 3.
func defaultReplicas(cfg service.Config) int {
	if cfg.NATSURL == "" && cfg.NATSCluster.Clustered() {
		return 3
	}
	return 1
}
