// @tidemark/sim
