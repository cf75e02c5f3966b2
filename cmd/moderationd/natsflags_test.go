package main

import (
	"slices"
	"strings"
	"testing"

	"moderation/internal/service"
)

// TestNATSConfig: each NATS variable means one thing. MODERATION_NATS_URL
// is an external server (modctl uses it too); the embedded server's
// address is MODERATION_NATS_LISTEN (modctl's default when no external
// server is set); credentials for an external server make no sense
// without one, nor a certificate for the embedded server beside one.
func TestNATSConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		check   func(t *testing.T, url, listen string)
	}{
		{name: "embedded at MODERATION_NATS_LISTEN", env: map[string]string{"MODERATION_NATS_LISTEN": "0.0.0.0:4333"}, check: func(t *testing.T, url, listen string) {
			if url != "" || listen != "0.0.0.0:4333" {
				t.Errorf("got url %q listen %q, want the embedded server on 0.0.0.0:4333", url, listen)
			}
		}},
		{name: "external at MODERATION_NATS_URL", env: map[string]string{"MODERATION_NATS_URL": "tls://n1:4222", "MODERATION_NATS_CREDS": "/etc/mod/nats.creds"}, check: func(t *testing.T, url, _ string) {
			if url != "tls://n1:4222" {
				t.Errorf("got url %q, want the external server", url)
			}
		}},
		{name: "a CA for modctl does not upset the embedded server", env: map[string]string{"MODERATION_NATS_CA": "/etc/mod/ca.pem"}},
		{name: "embedded with TLS", args: []string{"-nats-tls-cert", "c.pem", "-nats-tls-key", "k.pem"}},
		{name: "external creds without an external server", env: map[string]string{"MODERATION_NATS_CREDS": "/etc/mod/nats.creds"}, wantErr: "-nats-creds: only with -nats-url"},
		{name: "nkey without an external server", args: []string{"-nats-nkey", "user.nk"}, wantErr: "-nats-nkey: only with -nats-url"},
		{name: "embedded certificate with an external server", args: []string{"-nats-url", "nats://n1:4222", "-nats-tls-cert", "c.pem", "-nats-tls-key", "k.pem"}, wantErr: "not with -nats-url"},
		{name: "certificate without its key", args: []string{"-nats-tls-cert", "c.pem"}, wantErr: "go together"},
		{name: "client certificate without its key", args: []string{"-nats-url", "nats://n1:4222", "-nats-cert", "c.pem"}, wantErr: "go together"},
		{name: "creds and nkey", args: []string{"-nats-url", "nats://n1:4222", "-nats-creds", "a.creds", "-nats-nkey", "u.nk"}, wantErr: "one or the other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(tc.args, func(k string) string { return tc.env[k] })
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want none", err)
			}
			if tc.check != nil {
				tc.check(t, cfg.NATSURL, cfg.NATSListen)
			}
		})
	}
}

// TestClusterFlags: the embedded server becomes a cluster member with
// -nats-cluster-listen and -nats-routes (or their MODERATION_ variables),
// keeping three replicas unless told otherwise; cluster flags that cannot
// apply, and replicas a lone embedded server cannot keep, are refused.
func TestClusterFlags(t *testing.T) {
	member := []string{"-nats-cluster-listen", "0.0.0.0:6222", "-nats-routes", "10.0.0.1:6222, 10.0.0.2:6222,10.0.0.3:6222"}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		check   func(t *testing.T, c service.Config)
	}{
		{name: "alone by default", check: func(t *testing.T, c service.Config) {
			if c.NATSCluster.Clustered() || c.Replicas != 1 || c.Partitioned {
				t.Errorf("got cluster %+v, %d replicas, partitioned %v; want no cluster, 1 replica, one instance's pipeline", c.NATSCluster, c.Replicas, c.Partitioned)
			}
		}},
		{name: "a member", args: member, check: func(t *testing.T, c service.Config) {
			cl := c.NATSCluster
			if cl.Listen != "0.0.0.0:6222" || !slices.Equal(cl.Routes, []string{"10.0.0.1:6222", "10.0.0.2:6222", "10.0.0.3:6222"}) || cl.Name != "moderation" || c.Replicas != 3 || !c.Partitioned {
				t.Errorf("got cluster %+v, %d replicas, partitioned %v; want the routes given, cluster moderation, 3 replicas, the events shared", cl, c.Replicas, c.Partitioned)
			}
		}},
		{name: "a member from the environment", env: map[string]string{
			"MODERATION_NATS_CLUSTER_LISTEN": "0.0.0.0:6222", "MODERATION_NATS_ROUTES": "a:6222,b:6222,c:6222",
			"MODERATION_NATS_CLUSTER_NAME": "mod-eu", "MODERATION_NATS_SERVER_NAME": "mod-a",
		}, check: func(t *testing.T, c service.Config) {
			cl := c.NATSCluster
			if !slices.Equal(cl.Routes, []string{"a:6222", "b:6222", "c:6222"}) || cl.Name != "mod-eu" || cl.ServerName != "mod-a" {
				t.Errorf("got cluster %+v", cl)
			}
		}},
		{name: "routes on the command line replace the environment's", env: map[string]string{"MODERATION_NATS_ROUTES": "a:6222,b:6222"},
			args: []string{"-nats-cluster-listen", ":6222", "-nats-routes", "x:6222"}, check: func(t *testing.T, c service.Config) {
				if !slices.Equal(c.NATSCluster.Routes, []string{"x:6222"}) {
					t.Errorf("got routes %v, want the command line's", c.NATSCluster.Routes)
				}
			}},
		{name: "replicas given on a member", args: append([]string{"-replicas", "5"}, member...), check: func(t *testing.T, c service.Config) {
			if c.Replicas != 5 {
				t.Errorf("got %d replicas, want 5 as given", c.Replicas)
			}
		}},
		{name: "an external cluster keeps one replica unless told", args: []string{"-nats-url", "nats://n1:4222,nats://n2:4222"}, check: func(t *testing.T, c service.Config) {
			if c.Replicas != 1 {
				t.Errorf("got %d replicas, want 1", c.Replicas)
			}
		}},
		{name: "an external cluster with 3 replicas", args: []string{"-nats-url", "nats://n1:4222", "-replicas", "3"}},
		{name: "routes without a cluster address", args: []string{"-nats-routes", "a:6222"}, wantErr: "only with -nats-cluster-listen"},
		{name: "a server name without a cluster address", args: []string{"-nats-server-name", "a"}, wantErr: "only with -nats-cluster-listen"},
		{name: "a cluster address without routes", args: []string{"-nats-cluster-listen", ":6222"}, wantErr: "needs -nats-routes"},
		{name: "a cluster beside an external server", args: append([]string{"-nats-url", "nats://n1:4222"}, member...), wantErr: "not with -nats-url"},
		{name: "replicas on a lone embedded server", args: []string{"-replicas", "3"}, wantErr: "embedded server alone keeps one copy"},
		{name: "negative replicas", args: []string{"-replicas", "-1"}, wantErr: "flag -replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(tc.args, func(k string) string { return tc.env[k] })
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want none", err)
			}
			if tc.check != nil {
				tc.check(t, cfg)
			}
		})
	}
}
