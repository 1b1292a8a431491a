/**
 * How many feasible nodes kube-scheduler looks for before it stops filtering
 * (`numFeasibleNodesToFind` in pkg/scheduler/schedule_one.go; anchors.md §4.3).
 * `percentageOfNodesToScore` 0 means the adaptive default: 50 - nodes/125, at least 5 %;
 * the result is never below 100 nodes; clusters under 100 nodes are searched whole.
 */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage === 0) {
    percentage = Math.trunc(50 - numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
      percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  if (percentage >= 100) return numAllNodes;
  const numNodes = Math.trunc((numAllNodes * percentage) / 100);
  return numNodes < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : numNodes;
}
