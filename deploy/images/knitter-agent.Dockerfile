# knitter-agent's image; it carries knitter-plugin, which the agent installs on its node.
#   make build && docker build -f deploy/images/knitter-agent.Dockerfile -t knitter-agent:dev _output
FROM scratch
COPY knitter-agent /knitter-agent
COPY knitter-plugin /knitter-plugin
ENTRYPOINT ["/knitter-agent"]
