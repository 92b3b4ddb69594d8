# Every target runs through npm so the pinned Node 24 (the `node` devDependency) is on the PATH.
.PHONY: install build test lint crds demo bench bench-quick bench-soak bench-control-plane dev-cluster

install:
	npm ci

# Node 24 runs the TypeScript sources directly; "build" is the strict type check.
build:
	npx tsc -p tsconfig.json

test:
	npm test

lint:
	npm run lint

crds:
	npm run crds

demo:
	npm run demo

bench:
	npm run bench

bench-quick:
	npm run bench -- --quick

# Switchyard's memory under 10 minutes of continuous mixed load: flat or not (bench/README.md, "Soak").
bench-soak:
	npm run bench:soak

# Controller: 1,000 Backends x 10 servers, 50 data planes; change -> last ACK and memory (bench/README.md).
bench-control-plane:
	npm run bench:control-plane

# The tests' Kubernetes API server emulator on 127.0.0.1:${DEV_CLUSTER_PORT:-16443}, writing
# .dev-cluster/kubeconfig (scripts/dev-cluster.ts). `npm exec` puts the pinned Node 24 on the PATH.
dev-cluster:
	npm exec --no -- node scripts/dev-cluster.ts
