package main

import (
	"strings"
	"testing"
	"time"

	"moderation/internal/service"
)

func TestLoadConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c service.Config)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, c service.Config) {
			if c.DataDir != "./data" || c.NATSListen != "127.0.0.1:4222" || c.GRPCListen != "127.0.0.1:50051" || c.HTTPListen != "127.0.0.1:8080" || c.NATSURL != "" || c.DedupWindow != 2*time.Minute {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "environment", env: map[string]string{"MODERATION_NATS_URL": "nats://n1:4222", "MODERATION_DATA_DIR": "/var/lib/mod", "MODERATION_MAX_STATE_MB": "64"}, check: func(t *testing.T, c service.Config) {
			if c.NATSURL != "nats://n1:4222" || c.DataDir != "/var/lib/mod" || c.MaxStateMB != 64 {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "flag beats environment", args: []string{"--grpc-listen", "127.0.0.1:6000"}, env: map[string]string{"MODERATION_GRPC_LISTEN": "127.0.0.1:7000"}, check: func(t *testing.T, c service.Config) {
			if c.GRPCListen != "127.0.0.1:6000" {
				t.Errorf("grpc listen: got %s, want the flag's", c.GRPCListen)
			}
		}},
		{name: "console on by default", check: func(t *testing.T, c service.Config) {
			if c.ConsoleListen != "127.0.0.1:8081" {
				t.Errorf("console listen: got %q, want 127.0.0.1:8081", c.ConsoleListen)
			}
		}},
		{name: "no console", env: map[string]string{"MODERATION_CONSOLE_LISTEN": ""}, args: []string{"--console-listen", ""}, check: func(t *testing.T, c service.Config) {
			if c.ConsoleListen != "" {
				t.Errorf("console listen: got %q, want none", c.ConsoleListen)
			}
		}},
		{name: "bad environment value", env: map[string]string{"MODERATION_DEDUP_WINDOW": "soon"}, wantErr: "MODERATION_DEDUP_WINDOW"},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantErr: "log-level"},
		{name: "non-positive state bound", args: []string{"--max-state-mb", "0"}, wantErr: "max-state-mb"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(tt.args, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}
