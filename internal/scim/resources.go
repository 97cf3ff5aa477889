package scim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The resources and messages of SCIM 2.0 as Gatehouse speaks them
// (RFC 7643, RFC 7644): a User is one membership of the account with its
// identity (its id is the membership's), a Group one of the account's
// groups (its id is the group's).

// The schemas.
const (
	SchemaUser                  = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup                 = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterpriseUser        = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaListResponse          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaPatchOp               = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaError                 = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SchemaResourceType          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	// SchemaMembership is Gatehouse's extension of a User: the person's
	// level in the account and whether they activated, read-only.
	SchemaMembership = "urn:gatehouse:params:scim:schemas:extension:2.0:Membership"
)

// ContentType is the media type of every SCIM body (RFC 7644 §3.1).
const ContentType = "application/scim+json"

// MaxBodyBytes bounds a request's body: a group of a few thousand members
// fits, a document does not.
const MaxBodyBytes = 1 << 20

// User is the SCIM User resource. Fields the directory sends that
// Gatehouse does not keep (title, addresses, phone numbers, the enterprise
// extension) are read and dropped.
type User struct {
	Schemas     []string          `json:"schemas"`
	ID          string            `json:"id,omitempty"`
	ExternalID  string            `json:"externalId,omitempty"`
	UserName    string            `json:"userName"`
	Name        *Name             `json:"name,omitempty"`
	DisplayName string            `json:"displayName,omitempty"`
	Emails      []MultiValue      `json:"emails,omitempty"`
	Language    string            `json:"preferredLanguage,omitempty"`
	Locale      string            `json:"locale,omitempty"`
	Active      *Bool             `json:"active,omitempty"`
	Membership  *MembershipFields `json:"urn:gatehouse:params:scim:schemas:extension:2.0:Membership,omitempty"`
	Meta        *Meta             `json:"meta,omitempty"`
}

// Name is a User's name.
type Name struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	Formatted  string `json:"formatted,omitempty"`
}

// MultiValue is one value of a multi-valued attribute: an e-mail address,
// a group's member.
type MultiValue struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary *Bool  `json:"primary,omitempty"`
	Ref     string `json:"$ref,omitempty"`
}

// MembershipFields are Gatehouse's read-only extension of a User.
type MembershipFields struct {
	Level gatehouse.Level `json:"level"`
	// Status is activation_required until the person activates.
	Status gatehouse.MembershipStatus `json:"status"`
}

// Group is the SCIM Group resource.
type Group struct {
	Schemas     []string     `json:"schemas"`
	ID          string       `json:"id,omitempty"`
	ExternalID  string       `json:"externalId,omitempty"`
	DisplayName string       `json:"displayName"`
	Members     []MultiValue `json:"members,omitempty"`
	Meta        *Meta        `json:"meta,omitempty"`
}

// Meta is a resource's metadata; Version is its ETag.
type Meta struct {
	ResourceType string    `json:"resourceType"`
	Created      time.Time `json:"created"`
	Location     string    `json:"location"`
	Version      string    `json:"version"`
}

// ListResponse is the answer of a query (RFC 7644 §3.4.2).
type ListResponse[T any] struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []T      `json:"Resources"`
}

// Bool is a boolean as directories send it: JSON true and false, and the
// strings "True" and "False" that Microsoft Entra ID sends.
type Bool bool

// UnmarshalJSON reads true, false, "true" and "false" in any case.
func (b *Bool) UnmarshalJSON(raw []byte) error {
	v, err := readBool(raw)
	*b = Bool(v)
	return err
}

func readBool(raw json.RawMessage) (bool, error) {
	var v bool
	if err := json.Unmarshal(raw, &v); err == nil {
		return v, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, gatehouse.Invalid("value", "a boolean is true or false, not %s", gatehouse.Truncate(string(raw), 40))
}

func truth(v bool) *Bool {
	b := Bool(v)
	return &b
}

// version is a resource's ETag: a digest of what it says, so that any
// change of it changes the version, on every node, without a counter.
func version(resource any) string {
	raw, _ := json.Marshal(resource) // resources always marshal
	sum := sha256.Sum256(raw)
	return `W/"` + hex.EncodeToString(sum[:8]) + `"`
}

// Matches tells whether an If-Match header names the version: "*", or a
// list of ETags one of which is it, weak or strong.
func Matches(ifMatch, version string) bool {
	ifMatch = strings.TrimSpace(ifMatch)
	if ifMatch == "" || ifMatch == "*" {
		return true
	}
	want := strings.TrimPrefix(version, "W/")
	for _, tag := range strings.Split(ifMatch, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == want {
			return true
		}
	}
	return false
}

// checkVersion refuses a change when the If-Match header names another
// version of the resource.
func checkVersion(ifMatch, current string) error {
	if Matches(ifMatch, current) {
		return nil
	}
	return gatehouse.Errorf(gatehouse.EPRECONDITION, "the resource changed since version %s: it is now %s; read it again", gatehouse.Truncate(ifMatch, 80), current)
}

// userOf is the User resource of a member.
func userOf(m gatehouse.Member, base string) User {
	display := strings.TrimSpace(m.FirstName + " " + m.LastName)
	u := User{Schemas: []string{SchemaUser, SchemaMembership}, ID: m.ID, ExternalID: m.ExternalID, UserName: m.Username,
		Name:        &Name{GivenName: m.FirstName, FamilyName: m.LastName, Formatted: display},
		DisplayName: display,
		Emails:      []MultiValue{{Value: m.Email, Type: "work", Primary: truth(true)}},
		Language:    m.Language,
		Active:      truth(!m.Suspended()),
		Membership:  &MembershipFields{Level: m.Level, Status: m.Status},
	}
	if u.DisplayName == "" {
		u.DisplayName, u.Name.Formatted = m.Username, ""
	}
	u.Meta = &Meta{ResourceType: "User", Created: m.CreatedAt.UTC(), Location: base + "/Users/" + m.ID, Version: version(u)}
	return u
}

// groupOf is the Group resource of a group.
func groupOf(g gatehouse.SCIMGroup, base string) Group {
	out := Group{Schemas: []string{SchemaGroup}, ID: g.ID, ExternalID: g.ExternalID, DisplayName: g.Name}
	for _, m := range g.Members {
		out.Members = append(out.Members, MultiValue{Value: m.MembershipID, Display: m.Username, Type: "User", Ref: base + "/Users/" + m.MembershipID})
	}
	out.Meta = &Meta{ResourceType: "Group", Created: g.CreatedAt.UTC(), Location: base + "/Groups/" + g.ID, Version: version(out)}
	return out
}

// Error is the SCIM error body (RFC 7644 §3.12).
type Error struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}
