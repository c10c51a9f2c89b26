// gotls: a stdlib-only TLS peer (Go crypto/tls) for handclasp's interop tests.
//
// Server:  gotls -server -addr 127.0.0.1:0 -cert server.pem -key server.key [-n 1] [-mode echo|http]
//
//	[-clientauth none|request|require] [-clientca ca.pem] [-groups X25519MLKEM768,X25519]
//	[-alpn h2,http/1.1] [-minversion 1.2] [-maxversion 1.3] [-ekm LABEL]
//
// Client:  gotls -addr 127.0.0.1:PORT -cafile ca.pem [-servername localhost] [-n 2] [-send TEXT | -http]
//
//	[-cert client.pem -key client.key] [-groups ...] [-alpn ...] [-insecure] [-ekm LABEL]
//
// Output (stdout), one JSON object per line:
//
//	server first prints {"event":"listening","addr":"127.0.0.1:PORT"} (so -addr 127.0.0.1:0 is race-free),
//	then each side prints {"event":"connection", "role":..., "ok":..., "version":"TLSv1.3", "suite":...,
//	"group":"X25519MLKEM768", "alpn":..., "resumed":..., "hello_retry":..., ...} per connection.
//
// Group names follow handclasp.wire.enums.NamedGroup member names (X25519, SECP256R1, X25519MLKEM768, ...);
// numeric ids are in *_id fields. SSLKEYLOGFILE is honoured. Every connection has a deadline (-timeout),
// and the server exits after -n connections or -lifetime, whichever comes first.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

type report struct {
	Event          string   `json:"event"`
	Role           string   `json:"role"`
	Index          int      `json:"index"`
	OK             bool     `json:"ok"`
	Error          string   `json:"error,omitempty"`
	Version        string   `json:"version,omitempty"`
	VersionID      uint16   `json:"version_id,omitempty"`
	Suite          string   `json:"suite,omitempty"`
	SuiteID        uint16   `json:"suite_id,omitempty"`
	Group          string   `json:"group,omitempty"`
	GroupID        uint16   `json:"group_id,omitempty"`
	ALPN           string   `json:"alpn"`
	Resumed        bool     `json:"resumed"`
	HelloRetry     bool     `json:"hello_retry"`
	ServerName     string   `json:"server_name"`
	PeerCerts      int      `json:"peer_certs"`
	PeerSubjects   []string `json:"peer_subjects"`
	EKM            string   `json:"ekm,omitempty"`
	Sent           int      `json:"sent"`
	ReceivedLen    int      `json:"received_len"`
	Received       string   `json:"received"`
	Implementation string   `json:"implementation"`
}

var (
	outMu sync.Mutex
)

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"event":"error","error":%q}`, err.Error()))
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func fatal(format string, args ...any) {
	emit(map[string]any{"event": "fatal", "ok": false, "error": fmt.Sprintf(format, args...)})
	os.Exit(2)
}

var groupNames = map[tls.CurveID]string{
	tls.X25519:             "X25519",
	tls.CurveP256:          "SECP256R1",
	tls.CurveP384:          "SECP384R1",
	tls.CurveP521:          "SECP521R1",
	tls.X25519MLKEM768:     "X25519MLKEM768",
	tls.SecP256r1MLKEM768:  "SECP256R1MLKEM768",
	tls.SecP384r1MLKEM1024: "SECP384R1MLKEM1024",
	tls.MLKEM1024:          "MLKEM1024",
}

func groupName(id tls.CurveID) string {
	if n, ok := groupNames[id]; ok {
		return n
	}
	return fmt.Sprintf("UNKNOWN_0x%04x", uint16(id))
}

func parseGroups(s string) []tls.CurveID {
	if s == "" {
		return nil
	}
	aliases := map[string]tls.CurveID{
		"p256": tls.CurveP256, "p-256": tls.CurveP256, "prime256v1": tls.CurveP256, "curvep256": tls.CurveP256,
		"p384": tls.CurveP384, "p-384": tls.CurveP384, "curvep384": tls.CurveP384,
		"p521": tls.CurveP521, "p-521": tls.CurveP521, "curvep521": tls.CurveP521,
	}
	for id, name := range groupNames {
		aliases[strings.ToLower(name)] = id
		aliases[strings.ToLower(id.String())] = id
	}
	var out []tls.CurveID
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if id, ok := aliases[strings.ToLower(part)]; ok {
			out = append(out, id)
			continue
		}
		n, err := strconv.ParseUint(part, 0, 16)
		if err != nil {
			fatal("unknown group %q", part)
		}
		out = append(out, tls.CurveID(n))
	}
	return out
}

func parseVersion(s string) uint16 {
	switch s {
	case "":
		return 0
	case "1.0":
		return tls.VersionTLS10
	case "1.1":
		return tls.VersionTLS11
	case "1.2":
		return tls.VersionTLS12
	case "1.3":
		return tls.VersionTLS13
	}
	fatal("unknown version %q (use 1.2 or 1.3)", s)
	return 0
}

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

func parseSuites(s string) []uint16 {
	if s == "" {
		return nil
	}
	byName := map[string]uint16{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		byName[cs.Name] = cs.ID
	}
	var out []uint16
	for _, part := range strings.Split(s, ",") {
		id, ok := byName[strings.TrimSpace(part)]
		if !ok {
			fatal("unknown cipher suite %q", part)
		}
		out = append(out, id)
	}
	return out
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func loadPool(path string) *x509.CertPool {
	pem, err := os.ReadFile(path)
	if err != nil {
		fatal("read %s: %v", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		fatal("no certificates in %s", path)
	}
	return pool
}

func describe(role string, index int, conn *tls.Conn, err error, ekmLabel string) *report {
	r := &report{Event: "connection", Role: role, Index: index, OK: err == nil, Implementation: "go " + goVersion()}
	if err != nil {
		r.Error = err.Error()
	}
	cs := conn.ConnectionState()
	if !cs.HandshakeComplete {
		return r
	}
	r.Version, r.VersionID = versionName(cs.Version), cs.Version
	r.Suite, r.SuiteID = tls.CipherSuiteName(cs.CipherSuite), cs.CipherSuite
	if cs.CurveID != 0 {
		r.Group, r.GroupID = groupName(cs.CurveID), uint16(cs.CurveID)
	}
	r.ALPN = cs.NegotiatedProtocol
	r.Resumed = cs.DidResume
	r.HelloRetry = cs.HelloRetryRequest
	r.ServerName = cs.ServerName
	r.PeerCerts = len(cs.PeerCertificates)
	r.PeerSubjects = []string{}
	for _, c := range cs.PeerCertificates {
		r.PeerSubjects = append(r.PeerSubjects, c.Subject.String())
	}
	if ekmLabel != "" {
		if ekm, e := cs.ExportKeyingMaterial(ekmLabel, nil, 32); e == nil {
			r.EKM = hex.EncodeToString(ekm)
		}
	}
	return r
}

func goVersion() string {
	return strings.TrimPrefix(runtime.Version(), "go")
}

func keyLog() io.Writer {
	path := os.Getenv("SSLKEYLOGFILE")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fatal("open SSLKEYLOGFILE: %v", err)
	}
	return f
}

func truncate(b []byte) string {
	const max = 4096
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

func main() {
	var (
		server     = flag.Bool("server", false, "act as a server (default: client)")
		addr       = flag.String("addr", "127.0.0.1:0", "address to listen on / connect to")
		certFile   = flag.String("cert", "", "PEM certificate chain (server cert, or client cert for mTLS)")
		keyFile    = flag.String("key", "", "PEM private key for -cert")
		caFile     = flag.String("cafile", "", "client: PEM roots to verify the server")
		clientAuth = flag.String("clientauth", "none", "server: none|request|require")
		clientCA   = flag.String("clientca", "", "server: PEM roots to verify client certificates")
		serverName = flag.String("servername", "localhost", "client: SNI and name to verify")
		insecure   = flag.Bool("insecure", false, "client: skip server certificate verification")
		groups     = flag.String("groups", "", "comma-separated groups in preference order (default: Go's)")
		alpn       = flag.String("alpn", "", "comma-separated ALPN protocols")
		minVersion = flag.String("minversion", "", "1.2 or 1.3")
		maxVersion = flag.String("maxversion", "", "1.2 or 1.3")
		suites     = flag.String("ciphers", "", "TLS 1.2 cipher suites (Go cannot configure 1.3 suites)")
		n          = flag.Int("n", 1, "connections: client makes n (later ones may resume); server handles n then exits (0 = until -lifetime)")
		mode       = flag.String("mode", "echo", "server: echo (echo bytes until EOF) | http (answer one request with the JSON report)")
		send       = flag.String("send", "", "client: text to send after the handshake (\\n and \\r are unescaped)")
		httpGet    = flag.Bool("http", false, "client: send an HTTP/1.1 GET and read the response until EOF")
		readLen    = flag.Int("readlen", 0, "client: after -send, read until this many bytes arrived (0: as many as sent, an echo; -1: until EOF)")
		timeout    = flag.Duration("timeout", 10*time.Second, "deadline for each connection")
		lifetime   = flag.Duration("lifetime", 60*time.Second, "server: exit after this long")
		ekmLabel   = flag.String("ekm", "", "export 32 bytes of keying material with this label (no context) into the report")
		noTickets  = flag.Bool("notickets", false, "server: disable session tickets")
	)
	flag.Parse()

	cfg := &tls.Config{
		CurvePreferences: parseGroups(*groups),
		NextProtos:       splitList(*alpn),
		MinVersion:       parseVersion(*minVersion),
		MaxVersion:       parseVersion(*maxVersion),
		CipherSuites:     parseSuites(*suites),
		KeyLogWriter:     keyLog(),
	}
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fatal("load %s/%s: %v", *certFile, *keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if *server {
		runServer(cfg, *addr, *clientAuth, *clientCA, *n, *mode, *timeout, *lifetime, *ekmLabel, *noTickets)
		return
	}
	if *caFile != "" {
		cfg.RootCAs = loadPool(*caFile)
	}
	cfg.ServerName = *serverName
	cfg.InsecureSkipVerify = *insecure
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	payload := []byte(strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(*send))
	if *httpGet {
		payload = []byte("GET / HTTP/1.1\r\nHost: " + *serverName + "\r\nConnection: close\r\n\r\n")
	}
	want := *readLen
	if want == 0 {
		want = len(payload) // expect an echo
	}
	if *httpGet {
		want = -1
	}
	failed := false
	for i := 0; i < *n; i++ {
		if !runClient(cfg, *addr, i, payload, want, *n > 1, *timeout, *ekmLabel) {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func runClient(cfg *tls.Config, addr string, index int, payload []byte, readLen int, waitTicket bool, timeout time.Duration, ekmLabel string) bool {
	deadline := time.Now().Add(timeout)
	raw, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		emit(&report{Event: "connection", Role: "client", Index: index, Error: err.Error()})
		return false
	}
	defer raw.Close()
	raw.SetDeadline(deadline)
	conn := tls.Client(raw, cfg)
	err = conn.Handshake()
	var received []byte
	sent := 0
	if err == nil && len(payload) > 0 {
		sent, err = conn.Write(payload)
		if err == nil {
			received, err = readResponse(conn, readLen)
		}
	} else if err == nil && waitTicket {
		// TLS 1.3 tickets arrive after the handshake: read briefly so the next connection can resume.
		conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 1)
		_, rerr := conn.Read(buf)
		var ne net.Error
		if rerr != nil && !(errors.As(rerr, &ne) && ne.Timeout()) && rerr != io.EOF {
			err = rerr
		}
		conn.SetReadDeadline(deadline)
	}
	r := describe("client", index, conn, err, ekmLabel)
	r.Sent, r.ReceivedLen, r.Received = sent, len(received), truncate(received)
	if err == nil {
		conn.Close()
	}
	emit(r)
	return err == nil
}

func runServer(cfg *tls.Config, addr, clientAuth, clientCA string, n int, mode string, timeout, lifetime time.Duration, ekmLabel string, noTickets bool) {
	if len(cfg.Certificates) == 0 {
		fatal("server needs -cert and -key")
	}
	cfg.SessionTicketsDisabled = noTickets
	if clientCA != "" {
		cfg.ClientCAs = loadPool(clientCA)
	}
	switch clientAuth {
	case "none":
		cfg.ClientAuth = tls.NoClientCert
	case "request":
		if clientCA != "" {
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		} else {
			cfg.ClientAuth = tls.RequestClientCert
		}
	case "require":
		if clientCA != "" {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		} else {
			cfg.ClientAuth = tls.RequireAnyClientCert
		}
	default:
		fatal("unknown -clientauth %q", clientAuth)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fatal("listen %s: %v", addr, err)
	}
	tcpLn := ln.(*net.TCPListener)
	tcpLn.SetDeadline(time.Now().Add(lifetime))
	emit(map[string]any{"event": "listening", "addr": ln.Addr().String(), "port": ln.Addr().(*net.TCPAddr).Port})
	var wg sync.WaitGroup
	for i := 0; n == 0 || i < n; i++ {
		raw, err := tcpLn.Accept()
		if err != nil {
			emit(map[string]any{"event": "stopped", "reason": err.Error()})
			break
		}
		wg.Add(1)
		go func(index int, raw net.Conn) {
			defer wg.Done()
			defer raw.Close()
			raw.SetDeadline(time.Now().Add(timeout))
			conn := tls.Server(raw, cfg)
			err := conn.Handshake()
			var received []byte
			sent := 0
			var resp func(*report) []byte
			if err == nil {
				switch mode {
				case "http":
					received, err = readHTTPRequest(conn)
					resp = func(r *report) []byte {
						body, _ := json.Marshal(r)
						return []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body))
					}
				default:
					received, sent, err = echo(conn)
				}
			}
			r := describe("server", index, conn, err, ekmLabel)
			r.ReceivedLen, r.Received = len(received), truncate(received)
			if resp != nil {
				msg := resp(r)
				if _, werr := conn.Write(msg); werr == nil {
					sent = len(msg)
				}
			}
			r.Sent = sent
			if conn.ConnectionState().HandshakeComplete {
				conn.Close()
			}
			emit(r)
		}(i, raw)
	}
	wg.Wait()
}

// echo writes back everything it reads until EOF (close_notify or TCP FIN). Returns what was read.
func echo(conn *tls.Conn) ([]byte, int, error) {
	var all bytes.Buffer
	buf := make([]byte, 32*1024)
	sent := 0
	for {
		k, err := conn.Read(buf)
		if k > 0 {
			if all.Len() < 1<<24 {
				all.Write(buf[:k])
			}
			w, werr := conn.Write(buf[:k])
			sent += w
			if werr != nil {
				return all.Bytes(), sent, werr
			}
		}
		if err == io.EOF {
			return all.Bytes(), sent, nil
		}
		if err != nil {
			return all.Bytes(), sent, err
		}
	}
}

// readResponse reads until want bytes arrived (want < 0: until EOF), at most 16 MiB.
func readResponse(conn *tls.Conn, want int) ([]byte, error) {
	if want < 0 {
		return io.ReadAll(io.LimitReader(conn, 1<<24))
	}
	out := make([]byte, 0, want)
	buf := make([]byte, 32*1024)
	for len(out) < want {
		k, err := conn.Read(buf)
		out = append(out, buf[:k]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func readHTTPRequest(conn *tls.Conn) ([]byte, error) {
	var all bytes.Buffer
	buf := make([]byte, 4096)
	for all.Len() < 64*1024 {
		k, err := conn.Read(buf)
		all.Write(buf[:k])
		if bytes.Contains(all.Bytes(), []byte("\r\n\r\n")) {
			return all.Bytes(), nil
		}
		if err != nil {
			return all.Bytes(), err
		}
	}
	return all.Bytes(), errors.New("request headers too long")
}
