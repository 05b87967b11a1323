-- The repurchase target planner (seed 004, docs/planner.md): a plan is a target for a period, the status quo
-- estimated at its as-of date, the gap per lifecycle stage x tier cell, and the operator's what-ifs (each tied
-- to a measure); `body` is the plan as `winback plan create --json` prints it. A solution is the set of measures
-- the solver chose for it (least cost, or the most contribution within a budget) with the phase table.
CREATE TABLE planner_plans (
    plan_id        VARCHAR PRIMARY KEY,
    created_at     TIMESTAMP NOT NULL,
    period_start   DATE NOT NULL,
    period_end     DATE NOT NULL,               -- exclusive
    as_of          DATE NOT NULL,
    target_revenue DOUBLE NOT NULL,
    body           JSON NOT NULL
);

CREATE TABLE planner_solutions (
    plan_id   VARCHAR NOT NULL,
    solved_at TIMESTAMP NOT NULL,
    mode      VARCHAR NOT NULL,                 -- close_gap | budget
    budget    DOUBLE,
    body      JSON NOT NULL
);
