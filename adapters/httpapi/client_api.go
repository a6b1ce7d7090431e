package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func seg(s string) string { return url.PathEscape(s) }

// ListTenants returns the tenants the caller may see. Every List method reads all the pages.
func (c *Client) ListTenants(ctx context.Context) ([]TenantInfo, error) {
	return listAll(ctx, c, "/api/v1/tenants", nil, func(l *TenantList) ([]TenantInfo, string) { return l.Tenants, l.Continue })
}

// GetTenant returns a tenant with its usage.
func (c *Client) GetTenant(ctx context.Context, name string) (TenantInfo, error) {
	var out TenantInfo
	_, err := c.do(ctx, http.MethodGet, "/api/v1/tenants/"+seg(name), nil, nil, &out)
	return out, err
}

// CreateTenant creates a tenant (admin only).
func (c *Client) CreateTenant(ctx context.Context, t model.Tenant) (TenantInfo, error) {
	var out TenantInfo
	_, err := c.do(ctx, http.MethodPost, "/api/v1/tenants", nil, t, &out)
	return out, err
}

// UpdateTenant replaces a tenant's quota, admin flag and default network.
func (c *Client) UpdateTenant(ctx context.Context, t model.Tenant) (TenantInfo, error) {
	var out TenantInfo
	_, err := c.do(ctx, http.MethodPut, "/api/v1/tenants/"+seg(t.Name), nil, t, &out)
	return out, err
}

// DeleteTenant deletes a tenant that owns nothing.
func (c *Client) DeleteTenant(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/tenants/"+seg(name), nil, nil, nil)
	return err
}

// ListNetworks returns one tenant's networks (the public ones only, for a tenant that is not the
// caller's), or with tenant "" every network the caller may see.
func (c *Client) ListNetworks(ctx context.Context, tenant string) ([]model.Network, error) {
	path := "/api/v1/networks"
	if tenant != "" {
		path = "/api/v1/tenants/" + seg(tenant) + "/networks"
	}
	return listAll(ctx, c, path, nil, func(l *NetworkList) ([]model.Network, string) { return l.Networks, l.Continue })
}

// GetNetwork returns a network with its address usage.
func (c *Client) GetNetwork(ctx context.Context, tenant, name string) (NetworkInfo, error) {
	var out NetworkInfo
	_, err := c.do(ctx, http.MethodGet, "/api/v1/tenants/"+seg(tenant)+"/networks/"+seg(name), nil, nil, &out)
	return out, err
}

// CreateNetwork creates n in n.Tenant and returns it as stored (with the VNI the manager chose).
func (c *Client) CreateNetwork(ctx context.Context, n model.Network) (model.Network, error) {
	var out model.Network
	_, err := c.do(ctx, http.MethodPost, "/api/v1/tenants/"+seg(n.Tenant)+"/networks", nil, n, &out)
	return out, err
}

// DeleteNetwork deletes a network no port or IP group uses.
func (c *Client) DeleteNetwork(ctx context.Context, tenant, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/tenants/"+seg(tenant)+"/networks/"+seg(name), nil, nil, nil)
	return err
}

// ListIPGroups returns a tenant's IP groups; a non-empty network narrows them to that network's.
func (c *Client) ListIPGroups(ctx context.Context, tenant, network string) ([]model.IPGroup, error) {
	q := url.Values{}
	if network != "" {
		q.Set("network", network)
	}
	return listAll(ctx, c, "/api/v1/tenants/"+seg(tenant)+"/ipgroups", q, func(l *IPGroupList) ([]model.IPGroup, string) { return l.IPGroups, l.Continue })
}

// GetIPGroup returns one IP group.
func (c *Client) GetIPGroup(ctx context.Context, tenant, name string) (model.IPGroup, error) {
	var out model.IPGroup
	_, err := c.do(ctx, http.MethodGet, "/api/v1/tenants/"+seg(tenant)+"/ipgroups/"+seg(name), nil, nil, &out)
	return out, err
}

// CreateIPGroup creates g in g.Tenant and returns it with its addresses.
func (c *Client) CreateIPGroup(ctx context.Context, g model.IPGroup) (model.IPGroup, error) {
	var out model.IPGroup
	_, err := c.do(ctx, http.MethodPost, "/api/v1/tenants/"+seg(g.Tenant)+"/ipgroups", nil, g, &out)
	return out, err
}

// UpdateIPGroup replaces a group's address list with g.IPs. g.Size is not sent: a group read back,
// edited and written again would otherwise disagree with itself.
func (c *Client) UpdateIPGroup(ctx context.Context, g model.IPGroup) (model.IPGroup, error) {
	g.Size = 0
	var out model.IPGroup
	_, err := c.do(ctx, http.MethodPut, "/api/v1/tenants/"+seg(g.Tenant)+"/ipgroups/"+seg(g.Name), nil, g, &out)
	return out, err
}

// DeleteIPGroup deletes a group no port uses.
func (c *Client) DeleteIPGroup(ctx context.Context, tenant, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/tenants/"+seg(tenant)+"/ipgroups/"+seg(name), nil, nil, nil)
	return err
}

// AllocatePod allocates every port of a pod. It is idempotent: created is false when the same
// request had been allocated before (by the monitor, or an earlier try of this call).
func (c *Client) AllocatePod(ctx context.Context, req alloc.PodRequest) (pod model.Pod, created bool, err error) {
	status, err := c.do(ctx, http.MethodPost, "/api/v1/pods", nil, req, &pod)
	return pod, status == http.StatusCreated, err
}

// GetPod returns a pod's allocation.
func (c *Client) GetPod(ctx context.Context, uid string) (model.Pod, error) {
	var out model.Pod
	_, err := c.do(ctx, http.MethodGet, "/api/v1/pods/"+seg(uid), nil, nil, &out)
	return out, err
}

// BindPod records the node a pod's ports were built on.
func (c *Client) BindPod(ctx context.Context, uid, node string) (model.Pod, error) {
	var out model.Pod
	_, err := c.do(ctx, http.MethodPost, "/api/v1/pods/"+seg(uid)+"/bind", nil, BindRequest{Node: node}, &out)
	return out, err
}

// BindPodNetworks binds as BindPod does and answers with the networks of the pod's ports too
// (?include=networks): all that knitter-agent's ADD needs from the manager, in one request.
func (c *Client) BindPodNetworks(ctx context.Context, uid, node string) (BoundPod, error) {
	var out BoundPod
	_, err := c.do(ctx, http.MethodPost, "/api/v1/pods/"+seg(uid)+"/bind", url.Values{"include": {"networks"}}, BindRequest{Node: node}, &out)
	return out, err
}

// ReleasePod frees a pod's ports; releasing a pod without ports succeeds.
func (c *Client) ReleasePod(ctx context.Context, uid string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/pods/"+seg(uid), nil, nil, nil)
	return err
}

// ListPorts returns the ports that match q and that the caller may see, reading every page.
func (c *Client) ListPorts(ctx context.Context, q PortQuery) ([]model.Port, error) {
	return listAll(ctx, c, "/api/v1/ports", q.values(), func(l *PortList) ([]model.Port, string) { return l.Ports, l.Continue })
}

func (q PortQuery) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"tenant": q.Tenant, "network": q.Network, "node": q.Node, "pod": q.Pod} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// ListNodes returns every registered node (admin and system tokens).
func (c *Client) ListNodes(ctx context.Context) ([]model.Node, error) {
	return listAll(ctx, c, "/api/v1/nodes", nil, func(l *NodeList) ([]model.Node, string) { return l.Nodes, l.Continue })
}

// GetNode returns one registered node.
func (c *Client) GetNode(ctx context.Context, name string) (model.Node, error) {
	var out model.Node
	_, err := c.do(ctx, http.MethodGet, "/api/v1/nodes/"+seg(name), nil, nil, &out)
	return out, err
}

// RegisterNode registers a node with its VTEP address, or refreshes its heartbeat.
func (c *Client) RegisterNode(ctx context.Context, n model.Node) (model.Node, error) {
	var out model.Node
	_, err := c.do(ctx, http.MethodPut, "/api/v1/nodes/"+seg(n.Name), nil, NodeRequest{VTEP: n.VTEP}, &out)
	return out, err
}

// DeleteNode forgets a node and releases every pod bound to it.
func (c *Client) DeleteNode(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/nodes/"+seg(name), nil, nil, nil)
	return err
}

// ListTokens returns every token record without its secret or hash (admin only).
func (c *Client) ListTokens(ctx context.Context) ([]TokenInfo, error) {
	return listAll(ctx, c, "/api/v1/tokens", nil, func(l *TokenList) ([]TokenInfo, string) { return l.Tokens, l.Continue })
}

// CreateToken creates a token (admin only); the answer holds its bearer string, shown only now.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (CreatedToken, error) {
	var out CreatedToken
	_, err := c.do(ctx, http.MethodPost, "/api/v1/tokens", nil, req, &out)
	return out, err
}

// DeleteToken revokes a token (admin only).
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/tokens/"+seg(id), nil, nil, nil)
	return err
}

// Health checks /healthz: nil while the manager process runs.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
	return err
}

// Ready checks /readyz and returns the manager's status; a manager that is not ready answers an
// error matching ErrUnavailable.
func (c *Client) Ready(ctx context.Context) (Status, error) {
	var out Status
	_, err := c.do(ctx, http.MethodGet, "/readyz", nil, nil, &out)
	return out, err
}

// GetToken returns one token record without its secret or hash (admin only).
func (c *Client) GetToken(ctx context.Context, id string) (TokenInfo, error) {
	var out TokenInfo
	_, err := c.do(ctx, http.MethodGet, "/api/v1/tokens/"+seg(id), nil, nil, &out)
	return out, err
}
