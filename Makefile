# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: demo test serve lint bench-pages clean

demo:            ## create .venv, migrate, load demo data, start the desk at http://127.0.0.1:8000
	@scripts/bootstrap
	@.venv/bin/skranke demo
	@.venv/bin/skranke serve

test:            ## the whole suite: ruff, mypy, pytest on SQLite and PostgreSQL, browser, servers
	@scripts/test

serve:
	@scripts/bootstrap
	@.venv/bin/skranke serve

lint:
	@.venv/bin/ruff check skranke tests bench && .venv/bin/ruff format --check skranke tests bench && .venv/bin/mypy skranke

clean:           ## remove the embedded database and files (var/)
	rm -rf var
