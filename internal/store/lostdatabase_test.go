package store

import (
	"context"
	"database/sql"
	"net"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The errors of a failover are the database's, not the request's, and are
// answered 503: a host that accepts and never answers (its machine gone, as
// connect_timeout finds), a port that refuses, a server that takes no
// writes. A request's own end is not.
func TestFailoverErrorsAreUnavailable(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn // accepted, never answered
		for {
			c, err := silent.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	refusing, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := refusing.Addr().String()
	refusing.Close()

	for name, url := range map[string]string{
		"a host that never answers": "postgres://u@" + silent.Addr().String() + "/db?sslmode=disable&connect_timeout=1",
		"a port that refuses":       "postgres://u@" + refused + "/db?sslmode=disable",
		"neither of two hosts":      "postgres://u@" + silent.Addr().String() + "," + refused + "/db?sslmode=disable&connect_timeout=1&target_session_attrs=read-write",
	} {
		t.Run(name, func(t *testing.T) {
			pool, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			err = pool.PingContext(context.Background())
			if code := gatehouse.ErrorCode(mapErr(err)); code != gatehouse.EUNAVAILABLE {
				t.Errorf("%v is %s, want %s", err, code, gatehouse.EUNAVAILABLE)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if code := gatehouse.ErrorCode(mapErr(ctx.Err())); code == gatehouse.EUNAVAILABLE {
		t.Errorf("a request that ended is %s", code)
	}
}
