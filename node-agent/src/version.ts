/** Reported as `agentVersion` in the node report. */
export const AGENT_VERSION = '0.1.0';
