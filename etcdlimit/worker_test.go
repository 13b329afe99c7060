package etcdlimit_test

const workerEnv = "ETCDLIMIT_WORKER"

func workerMain() int { return 0 }
