# knitter-monitor's image.
#   make build && docker build -f deploy/images/knitter-monitor.Dockerfile -t knitter-monitor:dev _output
FROM scratch
COPY knitter-monitor /knitter-monitor
ENTRYPOINT ["/knitter-monitor"]
