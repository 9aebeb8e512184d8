// @tidemark/cli — see README.md for what this package holds.
export {};
