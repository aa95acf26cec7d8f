# Delayed entry (left truncation): Kaplan-Meier on cgd's (tstart, tstop] rows, overall and by
# treat, and Aalen-Johansen on pbc with a derived entry time (written to pbc_entry.csv), overall
# and by trt. A row is at risk on (entry, time].
# Run from this folder:  Rscript 06_entry.R
source("common.R")

CONF_TYPES <- c("log", "log-log", "plain")
PROBS <- c(0.25, 0.5, 0.75)

# ---- Kaplan-Meier with delayed entry: cgd (203 intervals, 128 children) --------------------
km_entry_block <- function(formula_str, times, rmean_tau) {
  fml <- as.formula(formula_str)
  fits <- lapply(CONF_TYPES, function(ct)
    eval(bquote(survfit(.(fml), data = cgd, conf.type = .(ct)))))
  names(fits) <- CONF_TYPES
  base <- fits[["log"]]
  strata_names <- if (is.null(base$strata)) "all" else names(base$strata)
  ns <- length(strata_names)
  pick <- function(f, g) if (ns == 1) f else f[g]
  groups <- list()
  for (g in seq_len(ns)) {
    gf <- pick(base, g)
    full <- list(time = as_array(gf$time), n_risk = as_array(gf$n.risk),
                 n_event = as_array(gf$n.event), n_censor = as_array(gf$n.censor),
                 surv = as_array(gf$surv), std_err_surv = as_array(gf$surv * gf$std.err),
                 std_err_logsurv = as_array(gf$std.err), cumhaz = as_array(gf$cumhaz),
                 std_err_cumhaz = as_array(gf$std.chaz))
    at <- list(times = as_array(times))
    qu <- list()
    for (ct in CONF_TYPES) {
      ff <- pick(fits[[ct]], g)
      full[[paste0("lower95_", ct)]] <- as_array(ff$lower)
      full[[paste0("upper95_", ct)]] <- as_array(ff$upper)
      s <- summary(ff, times = times, extend = TRUE)
      if (ct == "log") {
        at$n_risk <- as_array(s$n.risk)
        at$n_event_in_interval <- as_array(s$n.event)
        at$surv <- as_array(s$surv)
        at$std_err_surv <- as_array(s$std.err)
      }
      at[[paste0("lower95_", ct)]] <- as_array(s$lower)
      at[[paste0("upper95_", ct)]] <- as_array(s$upper)
      q <- quantile(ff, probs = PROBS)
      qu[[ct]] <- list(probs = as_array(PROBS),
                       quantile = as_array(unname(as.vector(q$quantile))),
                       lower95 = as_array(unname(as.vector(q$lower))),
                       upper95 = as_array(unname(as.vector(q$upper))))
    }
    tab <- summary(gf, rmean = rmean_tau)$table
    groups[[strata_names[g]]] <- list(
      events = unname(tab["events"]), full_table = full, at_times = at, quantiles = qu,
      rmean = list(tau = rmean_tau, rmean = unname(tab["rmean"]),
                   se_rmean = unname(tab["se(rmean)"])))
  }
  list(call = sprintf("survfit(%s, data=cgd, conf.type=<'log' | 'log-log' | 'plain'>)",
                       formula_str),
       strata = as_array(strata_names), groups = groups)
}

KM_TIMES <- c(50, 100, 200, 300)
km <- list(overall = km_entry_block("Surv(tstart, tstop, status) ~ 1", KM_TIMES, 300),
           by_treat = km_entry_block("Surv(tstart, tstop, status) ~ treat", KM_TIMES, 300))
write_json(c(meta("06_entry.R", c("survfit(Surv(tstart, tstop, status) ~ 1, data=cgd, conf.type=<type>)",
                                  "survfit(Surv(tstart, tstop, status) ~ treat, data=cgd, conf.type=<type>)",
                                  "summary(fit, times=c(50, 100, 200, 300), extend=TRUE)",
                                  "quantile(fit, probs=c(0.25, 0.5, 0.75))",
                                  "summary(fit, rmean=300)$table[c('rmean', 'se(rmean)')]")),
             list(time_unit = "days",
                  note = paste("Each cgd row is a (tstart, tstop] interval at risk (rows treated as",
                               "independent: no id, as survfit does for single-state data). n_risk at t",
                               "counts rows with tstart < t <= tstop. at_times$n_risk is R's summary()",
                               "value: the risk set at the first listed time at or after the horizon."),
                  kaplan_meier = km)), "km_entry_cgd.json")

# ---- Aalen-Johansen with delayed entry: pbc with a derived entry ----------------------------
# entry = floor(time * (id %% 7) / 10): deterministic, 0 for every 7th person, up to 60% of
# the follow-up otherwise (always < time, since time > 0).
pbc_entry <- data.frame(id = pbc$id, entry = floor(pbc$time * (pbc$id %% 7) / 10),
                        time = pbc$time, status = pbc$status, trt = pbc$trt)
write_csv_exact(pbc_entry, "pbc_entry.csv")

AJ_TIMES <- c(365, 730, 1826, 3652)
aj_entry_block <- function(fit, call_str, times) {
  states <- fit$states
  strata_names <- if (is.null(fit$strata)) "all" else names(fit$strata)
  s <- summary(fit, times = times, extend = TRUE)
  groups <- list()
  for (g in seq_along(strata_names)) {
    rows <- if (is.null(fit$strata)) seq_along(s$time) else which(as.character(s$strata) == strata_names[g])
    fg <- if (is.null(fit$strata)) fit else fit[g, ]
    full <- list(time = as_array(fg$time), n_risk = as_array(fg$n.risk[, 1]))
    at <- list(times = as_array(s$time[rows]), n_risk = as_array(s$n.risk[rows, 1]))
    for (k in seq_along(states)) {
      full[[states[k]]] <- list(pstate = as_array(fg$pstate[, k]),
                                std_err = as_array(fg$std.err[, k]),
                                n_event = as_array(fg$n.event[, k]))
      at[[states[k]]] <- list(pstate = as_array(s$pstate[rows, k]),
                              std_err = as_array(s$std.err[rows, k]),
                              lower95 = as_array(s$lower[rows, k]),
                              upper95 = as_array(s$upper[rows, k]),
                              n_event_in_interval = as_array(s$n.event[rows, k]))
    }
    groups[[strata_names[g]]] <- list(full_table = full, at_times = at)
  }
  list(call = call_str, states = as_array(states), strata = as_array(strata_names),
       conf_type = fit$conf.type, groups = groups)
}
CALL_ALL <- "survfit(Surv(entry, time, factor(status, 0:2, labels=c('censor', 'transplant', 'death'))) ~ 1, data=pbc_entry, id=id)"
CALL_TRT <- "survfit(Surv(entry, time, factor(status, 0:2, labels=c('censor', 'transplant', 'death'))) ~ trt, data=pbc_entry[1:312, ], id=id)"
aj <- list(overall = aj_entry_block(eval(parse(text = CALL_ALL)), CALL_ALL, AJ_TIMES),
           by_trt = aj_entry_block(eval(parse(text = CALL_TRT)), CALL_TRT, AJ_TIMES))
write_json(c(meta("06_entry.R", c("pbc_entry <- data.frame(id=pbc$id, entry=floor(pbc$time * (pbc$id %% 7) / 10), time=pbc$time, status=pbc$status, trt=pbc$trt)",
                                  CALL_ALL, CALL_TRT,
                                  "summary(fit, times=c(365, 730, 1826, 3652), extend=TRUE)")),
             list(time_unit = "days",
                  note = paste("Multi-state survfit needs id= for (start, stop] data; every id has one row,",
                               "so this is the Aalen-Johansen estimator with delayed entry. std_err is",
                               "survfit's infinitesimal-jackknife SE; lower95/upper95 use conf.type 'log'.",
                               "'(s0)' is the event-free state. n_risk = at risk in the initial state."),
                  aalen_johansen = aj)), "competing_entry_pbc.json")

# ---- console sanity print -----------------------------------------------
print(survfit(Surv(tstart, tstop, status) ~ treat, data = cgd), rmean = 300)
print(summary(eval(parse(text = CALL_ALL)), times = AJ_TIMES, extend = TRUE))
