/**
 * The registry of tasks the worker pool may run, by name. A task is a pure function of its (structured-
 * clonable) input: dispatch solves, clustering, model training. Each part exports its function from its own
 * module and adds one line here, e.g. `cluster: async (input) => (await import('../../actors/clustering.js')).cluster(input)`;
 * the dynamic import keeps a worker from loading modules its tasks never use.
 */
export type Task = (input: any) => unknown

export const tasks: Record<string, Task> = {
  dispatch: async (problem) => await (await import('../../actors/dispatch/index.js')).dispatch(problem),
  cluster: async (input) => (await import('../modelTasks.js')).clusterTask(input),
  train: async (input) => (await import('../modelTasks.js')).trainTask(input)
}
