// Package passkeytest is a software authenticator for tests: it answers
// the options Gatehouse gives for navigator.credentials.create and .get as
// a browser with a passkey would (an ECDSA P-256 key, attestation "none"),
// and lets a test change what a real one never would — the origin, the
// relying party, the counter — to see each refused.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator holds one passkey.
type Authenticator struct {
	// RPID and Origin are what the authenticator and the browser say:
	// the relying party the key is scoped to, and the page that asked.
	RPID, Origin string
	// Counter is the signature counter; each assertion adds one first.
	Counter uint32
	// NoUserVerification answers without verifying the person (a key
	// without a PIN).
	NoUserVerification bool

	key          *ecdsa.PrivateKey
	credentialID []byte
	userHandle   []byte
}

// New returns an authenticator for the relying party of origin.
func New(rpID, origin string) *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &Authenticator{RPID: rpID, Origin: origin, key: key, credentialID: id}
}

// CredentialID is the id of the authenticator's passkey.
func (a *Authenticator) CredentialID() []byte { return a.credentialID }

var b64 = base64.RawURLEncoding

type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func readOptions(raw []byte) (options, error) {
	var o options
	if err := json.Unmarshal(raw, &o); err != nil {
		return o, fmt.Errorf("options: %w", err)
	}
	return o, nil
}

func (a *Authenticator) clientData(kind, challenge string) []byte {
	data, _ := json.Marshal(map[string]any{"type": kind, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return data
}

func (a *Authenticator) flags(attested bool) byte {
	f := byte(0x01) // user present
	if !a.NoUserVerification {
		f |= 0x04
	}
	if attested {
		f |= 0x40
	}
	return f
}

func (a *Authenticator) authData(attested bool, extra []byte) []byte {
	rp := sha256.Sum256([]byte(a.RPID))
	out := append([]byte{}, rp[:]...)
	out = append(out, a.flags(attested))
	out = binary.BigEndian.AppendUint32(out, a.Counter)
	return append(out, extra...)
}

// Create answers creation options (the JSON object with "publicKey") with
// the new passkey, as the browser's PublicKeyCredential in JSON.
func (a *Authenticator) Create(optionsJSON []byte) ([]byte, error) {
	o, err := readOptions(optionsJSON)
	if err != nil {
		return nil, err
	}
	if a.userHandle, err = b64.DecodeString(o.PublicKey.User.ID); err != nil {
		return nil, fmt.Errorf("user id: %w", err)
	}
	x, y := make([]byte, 32), make([]byte, 32)
	a.key.PublicKey.X.FillBytes(x)
	a.key.PublicKey.Y.FillBytes(y)
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		return nil, err
	}
	attested := make([]byte, 16) // AAGUID: none said
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.credentialID)))
	attested = append(attested, a.credentialID...)
	attested = append(attested, cose...)
	object, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(true, attested)})
	if err != nil {
		return nil, err
	}
	clientData := a.clientData("webauthn.create", o.PublicKey.Challenge)
	return json.Marshal(map[string]any{"id": b64.EncodeToString(a.credentialID), "rawId": b64.EncodeToString(a.credentialID),
		"type": "public-key", "authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(clientData), "attestationObject": b64.EncodeToString(object),
			"transports": []string{"internal"}}})
}

// Get answers request options with an assertion of the passkey, its
// counter moved on by one.
func (a *Authenticator) Get(optionsJSON []byte) ([]byte, error) {
	o, err := readOptions(optionsJSON)
	if err != nil {
		return nil, err
	}
	a.Counter++
	return a.Sign(o.PublicKey.Challenge)
}

// Sign makes an assertion for a challenge (base64url) with the counter as
// it is.
func (a *Authenticator) Sign(challenge string) ([]byte, error) {
	authData := a.authData(false, nil)
	clientData := a.clientData("webauthn.get", challenge)
	hash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, authData...), hash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"id": b64.EncodeToString(a.credentialID), "rawId": b64.EncodeToString(a.credentialID),
		"type": "public-key", "authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(clientData), "authenticatorData": b64.EncodeToString(authData),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(a.userHandle)}})
}

// Clone is a second authenticator holding the same passkey (a copied
// key), with its own counter.
func (a *Authenticator) Clone() *Authenticator {
	c := *a
	return &c
}
