// Generated from vacuum_cleaner.xml by `deno task model-types examples/vacuum_cleaner.xml`: edit the model, then run it again.

/** The endpoint model of vacuum_cleaner.xml, typed for `new Endpoint(uuid, { model })`. */
export const vacuumCleanerModel = {
  nodes: {
    VacuumCleaner: {
      implements: ["NodeInterface"],
      objects: {
        Parameters: {
          attributes: {
            set_identification: { type: "String", constraint: "Parameter", value: "VC-0001" },
            set_power_on: { type: "Boolean", constraint: "Parameter", value: false },
            set_throughput: { type: "Number", constraint: "Parameter", value: 2.5 },
            set_operating_mode: { type: "Integer", constraint: "Parameter", value: 1 },
          },
        },
        Status: {
          attributes: {
            identification: { type: "String", constraint: "Measure", value: "VC-0001" },
            isPoweredOn: { type: "Boolean", constraint: "Measure", value: false },
            throughput: {
              type: "Number",
              constraint: "Measure",
              value: 0,
              policy: { deadband: 0.05, maxInterval: 60000 },
            },
            operatingMode: { type: "Integer", constraint: "Measure", value: 1 },
          },
        },
      },
    },
  },
} as const;
