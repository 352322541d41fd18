# Shortcuts. `npm start` and `npm test` are the two commands that matter; the rest wrap docker compose.
.PHONY: dev demo test lint smoke fuzz chaos up down logs scale bench compose-check

dev:            ## the whole system on embedded defaults
	npm start

demo:           ## the same, offline, against the built-in market simulator
	npm start -- --demo

test:           ## the whole suite (provisions Temporal binaries and PostgreSQL first)
	npm test

lint:
	npm run typecheck && npm run lint

smoke:          ## start the system, ingest, inject a failure, restart, check resume and rate limits: PASS/FAIL per step
	npm run smoke

fuzz:           ## Schemathesis against the real API and its /openapi.json (needs python3 3.11+ with venv)
	npm run fuzz:api

chaos:          ## break each part of the running system mid-run; prints the table (README, "Chaos suite")
	npm run chaos

up:             ## distributed topology (needs Docker and a .env, see .env.example)
	docker compose up -d --build

down:
	docker compose down

logs:
	docker compose logs -f --tail=200

scale:          ## make scale N=3
	docker compose up -d --scale worker=$(N)

bench:
	npm run bench:etl

compose-check:  ## validate docker-compose.yml without a Docker engine (compose-go, built once with Go)
	scripts/compose-check.sh
