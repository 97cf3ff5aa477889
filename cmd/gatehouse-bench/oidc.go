package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/httpapi"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// benchOIDC measures the OpenID Provider through HTTP on a node: tokens
// by client credentials (a service client for one account), refresh-token
// rotation (a person's sign-in to one account, each worker rotating its
// own chain), and introspection of access tokens by a confidential client.
func benchOIDC(dbKind string, workers int, d time.Duration) error {
	// The API with the provider mounted, as a node serves it (access log
	// formatted and thrown away), over a store this process also seeds.
	ctx := context.Background()
	db, _, cleanup, err := freshStore(ctx, dbKind)
	defer cleanup()
	if err != nil {
		return err
	}
	secretKey := make([]byte, 32)
	_, _ = rand.Read(secretKey)
	svc := service.New(db, service.Options{BootstrapToken: token, PublicURL: "http://bench.example", SecretKey: secretKey})
	api := httpapi.New(svc, slog.New(slog.NewJSONHandler(io.Discard, nil)), httpapi.NewMetrics(db.Pools()))
	if err := svc.OIDC.Mount(api.HandlePage, func(*http.Request) (gatehouse.Caller, bool) { return gatehouse.Caller{}, false }); err != nil {
		return err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: api}
	go server.Serve(listener)
	defer server.Close()
	n := &node{url: "http://" + listener.Addr().String()}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}}
	fmt.Printf("gatehouse-bench oidc: %s, %d cores, GOMAXPROCS %d, %d workers, %s each\n", dbKind, runtime.NumCPU(), runtime.GOMAXPROCS(0), workers, d)

	_, body, err := do(client, "POST", n.url+"/api/v1/accounts", `{"kind":"integrator","name":"Bench Integrator"}`)
	if err != nil {
		return err
	}
	integratorID := between(body, `"id":"`, `"`)
	_, body, err = do(client, "POST", n.url+"/api/v1/accounts", fmt.Sprintf(`{"kind":"client","integrator_id":%q,"name":"Site"}`, integratorID))
	if err != nil {
		return err
	}
	site := between(body, `"id":"`, `"`)
	register := func(payload string) (id, secret string, err error) {
		status, body, err := do(client, "POST", n.url+"/api/v1/oidc-clients", payload)
		if err != nil || status != 201 {
			return "", "", fmt.Errorf("register a client: %d %s %v", status, body, err)
		}
		return between(body, `"client_id":"`, `"`), between(body, `"client_secret":"`, `"`), nil
	}
	serviceID, serviceSecret, err := register(fmt.Sprintf(`{"name":"Stock sync","type":"service","account_id":%q}`, site))
	if err != nil {
		return err
	}
	appID, appSecret, err := register(`{"name":"Back office","type":"confidential","redirect_uris":["https://office.bench.example/callback"]}`)
	if err != nil {
		return err
	}

	tokenURL := n.url + "/oauth2/token"
	post := func(u, id, secret string, form url.Values) (map[string]any, error) {
		req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s: %d %v %v", u, resp.StatusCode, out, err)
		}
		return out, nil
	}

	// Client credentials: a token a request, signed, stored.
	ccForm := url.Values{"grant_type": {"client_credentials"}}
	latencies := make([][]time.Duration, workers)
	rate, err := forDuration(workers, d, func(w int, _ int64) error {
		began := time.Now()
		_, err := post(tokenURL, serviceID, serviceSecret, ccForm)
		latencies[w] = append(latencies[w], time.Since(began))
		return err
	})
	if err != nil {
		return err
	}
	report("client-credentials tokens", workers, rate, latencies)

	// Refresh: one person, a member of the site, signed in once per worker
	// (the refresh tokens are made through the store, as the code flow's
	// exchange would); each worker rotates its own chain.
	refresh, err := seedRefreshTokens(db, appID, site, workers)
	if err != nil {
		return err
	}
	latencies = make([][]time.Duration, workers)
	rate, err = forDuration(workers, d, func(w int, _ int64) error {
		began := time.Now()
		out, err := post(tokenURL, appID, appSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh[w]}})
		latencies[w] = append(latencies[w], time.Since(began))
		if err != nil {
			return err
		}
		refresh[w], _ = out["refresh_token"].(string)
		return nil
	})
	if err != nil {
		return err
	}
	report("refresh-token rotations (access, refresh and ID token)", workers, rate, latencies)

	// Introspection of live access tokens, a service's and a person's, by
	// the confidential application.
	var tokens []string
	for i := range workers {
		out, err := post(tokenURL, serviceID, serviceSecret, ccForm)
		if err != nil {
			return err
		}
		tokens = append(tokens, out["access_token"].(string))
		out, err = post(tokenURL, appID, appSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh[i]}})
		if err != nil {
			return err
		}
		refresh[i] = out["refresh_token"].(string)
		tokens = append(tokens, out["access_token"].(string))
	}
	introspectURL := n.url + "/oauth2/introspect"
	latencies = make([][]time.Duration, workers)
	rate, err = forDuration(workers, d, func(w int, i int64) error {
		began := time.Now()
		out, err := post(introspectURL, appID, appSecret, url.Values{"token": {tokens[(int64(w)+i)%int64(len(tokens))]}})
		latencies[w] = append(latencies[w], time.Since(began))
		if err == nil && out["active"] != true {
			err = fmt.Errorf("introspection: %v", out)
		}
		return err
	})
	if err != nil {
		return err
	}
	report("introspections (half service, half person tokens)", workers, rate, latencies)

	// The floor under every figure above: the same server, client and
	// connections answering GET /healthz, which reads nothing.
	latencies = make([][]time.Duration, workers)
	rate, err = forDuration(workers, d, func(w int, i int64) error {
		began := time.Now()
		resp, err := client.Get(n.url + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		latencies[w] = append(latencies[w], time.Since(began))
		return err
	})
	if err != nil {
		return err
	}
	report("GET /healthz (the HTTP floor: no work at all)", workers, rate, latencies)

	// The same two lines from wrk, a load generator outside this process.
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Println("wrk is not installed (apt-get install -y wrk): the lines measured from it are left out")
		return nil
	}
	if err := wrkIntrospection(n.url, appID, appSecret, tokens, workers, d); err != nil {
		return err
	}
	return wrkFloor(n.url, workers, d)
}

func report(label string, workers int, rate float64, latencies [][]time.Duration) {
	all := slices.Concat(latencies...)
	slices.Sort(all)
	fmt.Printf("%s through HTTP, %d clients: %.0f/s, p50 %v, p99 %v, max %v\n",
		label, workers, rate, pct(all, 50), pct(all, 99), all[len(all)-1].Round(time.Microsecond))
}

// seedRefreshTokens makes a person, an active member of site, and count
// refresh tokens of clientID for them (one sign-in each) with the scopes
// openid, email, offline_access and account:{site}.
func seedRefreshTokens(db *store.DB, clientID, site string, count int) ([]string, error) {
	ctx := context.Background()
	userID := kernel.NewID()
	secrets := make([]string, count)
	err := db.Write(ctx, func(tx *store.WriteTx) error {
		now := time.Now().UTC()
		if err := tx.InsertUser(ctx, gatehouse.User{ID: userID, Username: "person@bench.example", Language: "en",
			Status: gatehouse.UserActive, CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.InsertMembership(ctx, gatehouse.Membership{ID: kernel.NewID(), AccountID: site, UserID: userID,
			Level: gatehouse.LevelClientUser, Status: gatehouse.MembershipActive, Email: "person@bench.example", CreatedAt: now}); err != nil {
			return err
		}
		for i := range secrets {
			var hash []byte
			secrets[i], hash = gatehouse.NewToken(gatehouse.TokenOIDCRefresh)
			if err := tx.InsertOIDCToken(ctx, gatehouse.OIDCToken{ID: kernel.NewID(), Kind: gatehouse.OIDCRefreshToken,
				FamilyID: kernel.NewID(), ClientID: clientID, UserID: userID, Hash: hash,
				Scopes: []string{"openid", "email", "offline_access", "account:" + site}, AMR: []string{"pwd"}, AuthTime: now,
				CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	return secrets, err
}
