// Self-check of the harness, run by the bench command's Go tests: it
// marks the CPU time around 50 ms of busy work and echoes its parameters.

export default async function run(params, bench) {
  await bench.mark("start");
  const started = performance.now();
  let spins = 0;
  while (performance.now() - started < 50) {
    spins++;
  }
  await bench.mark("end");
  return {
    echo: params.echo,
    spins,
    isolated: crossOriginIsolated,
    memory: bench.memory(),
  };
}
