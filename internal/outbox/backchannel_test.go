package outbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// fakeTokens "signs" a logout token that shows what it was asked for.
type fakeTokens struct{}

func (fakeTokens) LogoutToken(_ context.Context, clientID, subject, jti string) (string, error) {
	return "token " + clientID + " " + subject + " " + jti, nil
}

func logout(id, uri, clientID, subject string) gatehouse.Message {
	body, _ := json.Marshal(gatehouse.BackchannelLogout{ClientID: clientID, Subject: subject})
	return gatehouse.Message{ID: id, MessageID: id, Channel: gatehouse.ChannelBackchannelLogout, To: uri, Body: string(body),
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
}

// An application hears of a logout by a form POST of logout_token to its
// back-channel logout URI; 200 and 204 deliver it, any other answer is
// retried later with a token of the same jti; a redirect is not followed;
// an application that cannot be reached holds back no other application's
// logouts in the batch.
func TestBackchannelLogoutsToApplications(t *testing.T) {
	db, _ := storetest.Backends(t)[0].Open(t)
	var (
		mu       sync.Mutex
		received = map[string][]string{} // by path: the logout tokens posted
		failWall = true
	)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "a form POST, please", http.StatusBadRequest)
			return
		}
		received[r.URL.Path] = append(received[r.URL.Path], r.PostFormValue("logout_token"))
		switch r.URL.Path {
		case "/wall/logout":
			if failWall {
				failWall = false
				http.Error(w, "try later", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case "/kiosk/logout":
			w.WriteHeader(http.StatusOK)
		case "/moved/logout":
			http.Redirect(w, r, "/kiosk/logout", http.StatusTemporaryRedirect)
		}
	}))
	defer app.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nobody listens there any more

	// The application that is down comes first in the batch.
	queue(t, db, logout("01-down-a", down.URL+"/logout", "c-down", "u-ann"), logout("02-down-b", down.URL+"/logout", "c-down", "u-bob"),
		logout("03-wall", app.URL+"/wall/logout", "c-wall", "u-ann"), logout("04-kiosk", app.URL+"/kiosk/logout", "c-kiosk", "u-ann"),
		logout("05-moved", app.URL+"/moved/logout", "c-moved", "u-ann"))
	clock := apitest.NewClock(time.Now().UTC())
	w := worker(db, outbox.Channels{Email: senderFunc(func(context.Context, gatehouse.Message) error { return nil }),
		BackchannelLogout: outbox.NewBackchannelLogoutSender(fakeTokens{})}, "node-1")
	w.Clock = clock
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 5 {
		t.Fatalf("first batch: %d, %v", n, err)
	}
	mu.Lock()
	if got := received["/kiosk/logout"]; len(got) != 1 || got[0] != "token c-kiosk u-ann 04-kiosk" {
		t.Errorf("behind an application that is down, the kiosk got %q", got)
	}
	if got := received["/wall/logout"]; len(got) != 1 || got[0] != "token c-wall u-ann 03-wall" {
		t.Errorf("the wall got %q", got)
	}
	if got := received["/moved/logout"]; len(got) != 1 {
		t.Errorf("the moved application got %q", got)
	}
	mu.Unlock()

	clock.Advance(time.Hour) // past the back-off
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 4 {
		t.Fatalf("the retry took %d messages (%v), want the two for the application down, the wall's and the redirected one", n, err)
	}
	clock.Advance(2 * time.Hour)
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 3 {
		t.Fatalf("the second retry took %d messages (%v), want the wall's no more", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := received["/wall/logout"]; len(got) != 2 || got[1] != got[0] {
		t.Errorf("the wall's retry: %q (the same jti each time)", got)
	}
	if got := received["/kiosk/logout"]; len(got) != 1 {
		t.Errorf("a redirect was followed to the kiosk, or its logout sent again: %q", got)
	}
	if got := received["/moved/logout"]; len(got) != 3 || !strings.HasPrefix(got[2], "token c-moved u-ann 05-moved") {
		t.Errorf("the application that redirects: %q", got)
	}
}

// A node without a back-channel logout sender fails those messages (to be
// retried) and still delivers the rest.
func TestBackchannelLogoutWithoutSender(t *testing.T) {
	db, _ := storetest.Backends(t)[0].Open(t)
	queue(t, db, logout("01-wall", "https://wall.example.com/logout", "c-wall", "u-ann"),
		gatehouse.Message{ID: "02-mail", MessageID: "02-mail@gatehouse.example.com", To: "ann@example.com", Subject: "Hello", Body: "Hi",
			CreatedAt: time.Now().UTC()})
	var mailed []string
	w := worker(db, outbox.Channels{Email: senderFunc(func(_ context.Context, m gatehouse.Message) error {
		mailed = append(mailed, m.To)
		return nil
	})}, "node-1")
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 2 || len(mailed) != 1 {
		t.Fatalf("delivered %d (%v), mailed %v", n, err, mailed)
	}
	w.Clock = apitest.NewClock(time.Now().Add(time.Hour))
	if n, _ := w.DeliverDue(context.Background()); n != 1 {
		t.Errorf("%d messages due again, want the logout", n)
	}
}
