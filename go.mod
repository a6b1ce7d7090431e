module github.com/knitter-cni/knitter

go 1.26
