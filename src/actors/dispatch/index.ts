/** Optimal dispatch of a DR request over a node's customers: see dispatch.ts for which solver runs when. */
export * from './problem.js'
export * from './dispatch.js'
export * from './meritOrder.js'
export * from './clusterMilp.js'
export * from './highsModel.js'
export * from './disaggregate.js'
export * from './syntheticProblem.js'
