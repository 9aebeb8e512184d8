// @tidemark/contract-checks — see README.md for what this package holds.
export {};
