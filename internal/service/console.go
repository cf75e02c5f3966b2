package service

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"moderation/internal/auth"
	"moderation/internal/authz"
	"moderation/internal/webconsole"
)

// startConsole serves the reviewer console on cfg.ConsoleListen. It calls
// the service's own gRPC API over loopback, with each reviewer's token, so
// everything it shows or does passes the same authentication,
// authorization, validation and audit as any gRPC caller's. With the API's
// TLS configured the console is served over TLS with the same certificate
// (and cookies marked Secure); it never asks browsers for a client
// certificate.
func (s *Service) startConsole(verifier *auth.Verifier, authorizer *authz.Authorizer, apiTLS *tls.Config) error {
	ln, err := net.Listen("tcp", s.cfg.ConsoleListen)
	if err != nil {
		return fmt.Errorf("listen for the web console on %s: %w", s.cfg.ConsoleListen, err)
	}
	creds := insecure.NewCredentials()
	if apiTLS != nil {
		clientTLS, err := consoleClientTLS(apiTLS)
		if err != nil {
			ln.Close()
			return err
		}
		creds = credentials.NewTLS(clientTLS)
	}
	if s.consoleAPI, err = grpc.NewClient(loopback(s.GRPCAddr), grpc.WithTransportCredentials(creds)); err != nil {
		ln.Close()
		return fmt.Errorf("web console: dial the gRPC API: %w", err)
	}
	console, err := webconsole.New(webconsole.Config{API: s.consoleAPI, Verifier: verifier, Authorizer: authorizer,
		Secure: apiTLS != nil, Log: s.log.With("part", "console")})
	if err != nil {
		ln.Close()
		return err
	}
	s.ConsoleAddr = ln.Addr().String()
	s.console = &http.Server{Handler: console, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	if apiTLS != nil {
		consoleTLS := apiTLS.Clone()
		consoleTLS.ClientAuth, consoleTLS.ClientCAs = tls.NoClientCert, nil
		ln = tls.NewListener(ln, consoleTLS)
	}
	s.goRun("web console", func() error {
		if err := s.console.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	scheme := "http"
	if apiTLS != nil {
		scheme = "https"
	}
	s.log.Info("reviewer console listening", "url", scheme+"://"+s.ConsoleAddr)
	return nil
}

// loopback is addr with an unspecified host (a service listening on every
// interface) replaced by loopback, which is how the console reaches it.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if ip.To4() != nil {
			host = "127.0.0.1"
		} else {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}

// consoleClientTLS is how the console's API connection trusts the
// service's own certificate: it pins that certificate (whoever signed it)
// and checks it under a name it carries. Under mutual TLS it presents the
// same certificate as its client certificate, which the API accepts when
// the client CA signed it.
func consoleClientTLS(server *tls.Config) (*tls.Config, error) {
	if len(server.Certificates) == 0 || len(server.Certificates[0].Certificate) == 0 {
		return nil, errors.New("web console: the API's TLS has no certificate to trust")
	}
	cert := server.Certificates[0]
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("web console: parse the API's certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	switch {
	case len(leaf.DNSNames) > 0:
		cfg.ServerName = leaf.DNSNames[0]
	case len(leaf.IPAddresses) > 0:
		cfg.ServerName = leaf.IPAddresses[0].String()
	default:
		return nil, errors.New("web console: the API's certificate names no host or address to check it under")
	}
	if server.ClientAuth == tls.RequireAndVerifyClientCert {
		// Checked now, so a console that could never reach the API stops
		// the start with a reason rather than failing every page.
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: server.ClientCAs, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return nil, fmt.Errorf("web console: under --client-ca the console presents the API's certificate as its client certificate, "+
				"so the client CA must have signed it for client authentication (extended key usage clientAuth): %w; "+
				"use such a certificate, or serve no console (--console-listen '')", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
