package scim

import "strings"

// What a directory reads to learn what this service provider does (RFC
// 7644 §4): its configuration, its resource types and their schemas. They
// are the same for every account, but for the addresses in them.

// MaxResults is the most resources one query answers; a larger count is
// served as this.
const MaxResults = 1000

// ServiceProviderConfig describes what Gatehouse supports.
func ServiceProviderConfig(base string) map[string]any {
	return map[string]any{
		"schemas":          []string{SchemaServiceProviderConfig},
		"documentationUri": "https://github.com/gatehouse/gatehouse/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": MaxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "A SCIM token of the account, made by its administrators in Gatehouse: Authorization: Bearer gh_scim_…",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
}

// resourceTypes are the User and Group resource types.
func resourceTypes(base string) []map[string]any {
	return []map[string]any{
		{"schemas": []string{SchemaResourceType}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "A person in the account: one membership with its identity", "schema": SchemaUser,
			"schemaExtensions": []map[string]any{{"schema": SchemaMembership, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"}},
		{"schemas": []string{SchemaResourceType}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "A group of the account's people", "schema": SchemaGroup,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"}},
	}
}

// ResourceTypes lists the resource types.
func ResourceTypes(base string) ListResponse[map[string]any] {
	types := resourceTypes(base)
	return ListResponse[map[string]any]{Schemas: []string{SchemaListResponse}, TotalResults: len(types), StartIndex: 1,
		ItemsPerPage: len(types), Resources: types}
}

// ResourceType returns one resource type by name, or false.
func ResourceType(base, name string) (map[string]any, bool) {
	for _, t := range resourceTypes(base) {
		if strings.EqualFold(t["id"].(string), name) {
			return t, true
		}
	}
	return nil, false
}

func attribute(name, typ string, required bool, mutability, uniqueness string, subs ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": false, "required": required, "caseExact": false,
		"mutability": mutability, "returned": "default", "uniqueness": uniqueness}
	if len(subs) > 0 {
		a["subAttributes"] = subs
	}
	return a
}

func multiValued(a map[string]any) map[string]any {
	a["multiValued"] = true
	return a
}

func schemas(base string) []map[string]any {
	user := []map[string]any{
		attribute("userName", "string", true, "readWrite", "server"),
		attribute("name", "complex", false, "readWrite", "none",
			attribute("givenName", "string", false, "readWrite", "none"),
			attribute("familyName", "string", false, "readWrite", "none"),
			attribute("formatted", "string", false, "readOnly", "none")),
		attribute("displayName", "string", false, "readOnly", "none"),
		multiValued(attribute("emails", "complex", false, "readWrite", "none",
			attribute("value", "string", false, "readWrite", "none"),
			attribute("type", "string", false, "readWrite", "none"),
			attribute("primary", "boolean", false, "readWrite", "none"))),
		attribute("preferredLanguage", "string", false, "readWrite", "none"),
		attribute("active", "boolean", false, "readWrite", "none"),
	}
	group := []map[string]any{
		attribute("displayName", "string", true, "readWrite", "server"),
		multiValued(attribute("members", "complex", false, "readWrite", "none",
			attribute("value", "string", false, "immutable", "none"),
			attribute("display", "string", false, "readOnly", "none"),
			attribute("$ref", "reference", false, "readOnly", "none"))),
	}
	membership := []map[string]any{
		attribute("level", "string", false, "readOnly", "none"),
		attribute("status", "string", false, "readOnly", "none"),
	}
	schema := func(id, name, description string, attrs []map[string]any) map[string]any {
		return map[string]any{"schemas": []string{SchemaSchema}, "id": id, "name": name, "description": description, "attributes": attrs,
			"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + id}}
	}
	return []map[string]any{
		schema(SchemaUser, "User", "A person in the account", user),
		schema(SchemaGroup, "Group", "A group of the account's people", group),
		schema(SchemaMembership, "Membership", "The person's level in the account, and whether they activated", membership),
	}
}

// Schemas lists the schemas.
func Schemas(base string) ListResponse[map[string]any] {
	all := schemas(base)
	return ListResponse[map[string]any]{Schemas: []string{SchemaListResponse}, TotalResults: len(all), StartIndex: 1,
		ItemsPerPage: len(all), Resources: all}
}

// Schema returns one schema by its URN, or false.
func Schema(base, id string) (map[string]any, bool) {
	for _, s := range schemas(base) {
		if strings.EqualFold(s["id"].(string), id) {
			return s, true
		}
	}
	return nil, false
}
