# knitter-manager's image for users who build with Docker (hack/kubecluster builds the same image
# without one). Build the static binaries first (make build), then from the repository's root:
#   docker build -f deploy/images/knitter-manager.Dockerfile -t knitter-manager:dev _output
FROM scratch
COPY knitter-manager /knitter-manager
ENTRYPOINT ["/knitter-manager"]
