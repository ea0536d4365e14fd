# Shortcuts for the scripts in scripts/ (each script says what it does and what it needs).
.PHONY: test sanity matrix matrix-ci ecosystem nox demo

test:        ## the whole suite, as CI runs it
	bash scripts/test.sh

sanity:      ## ansible-test sanity + ansible-doc on the venv's ansible-core
	bash scripts/sanity.sh

matrix:      ## sanity + unit tests on every ansible-core line from 2.16 to 2.20
	bash scripts/matrix.sh

matrix-ci:   ## the same on the oldest and newest line only
	bash scripts/matrix.sh --ci

ecosystem:   ## ansible-lint, yamllint, antsibull-docs, galaxy-importer, ansible-builder, antsibull-changelog
	bash scripts/ecosystem.sh

nox:         ## the antsibull-nox sessions that run here (antsibull-nox.toml)
	bash scripts/nox.sh

demo:        ## boot a tiny guest and hot-add two disks to it
	bash scripts/demo.sh
