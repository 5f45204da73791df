/** @odoo-module **/

/**
 * Steps shared by the dashboards' tours: open a dashboard from the Dashboards app by
 * its name, wait until it is drawn, then read the spreadsheet it computed. The tour
 * fails when a cell evaluates to an error, when a chart of Odoo data could not load
 * or has nothing to show, or when one of the given key figures is not a positive
 * number.
 */

const LOAD_TIMEOUT = 30000;

function dashboardAction() {
    // The dashboard action's component, found from the web client's root.
    const nodes = [odoo.__WOWL_DEBUG__.root.__owl__];
    while (nodes.length) {
        const node = nodes.pop();
        if (node.component.constructor.template === "spreadsheet_dashboard.DashboardAction") {
            return node.component;
        }
        nodes.push(...Object.values(node.children));
    }
    return null;
}

function evaluatedCells(model) {
    const { getters } = model;
    const cells = [];
    for (const sheetId of getters.getSheetIds()) {
        const sheetName = getters.getSheetName(sheetId);
        for (const position of getters.getEvaluatedCellsPositions(sheetId)) {
            const cell = getters.getEvaluatedCell(position);
            const ref = `${sheetName}!${String.fromCharCode(65 + position.col)}${
                position.row + 1
            }`;
            cells.push({ ref, cell });
        }
    }
    return cells;
}

function odooCharts(model) {
    const { getters } = model;
    const charts = [];
    for (const sheetId of getters.getSheetIds()) {
        for (const figure of getters.getFigures(sheetId)) {
            const definition = getters.getChartDefinition(figure.id);
            if (definition?.type?.startsWith("odoo_")) {
                charts.push({
                    id: figure.id,
                    type: definition.type,
                    dataSource: getters.getChartDataSource(figure.id),
                });
            }
        }
    }
    return charts;
}

function isLoaded(model) {
    const loadingCell = evaluatedCells(model).some(
        ({ cell }) => cell.type === "error" && cell.value === "Loading..."
    );
    const loadingChart = odooCharts(model).some(({ dataSource }) => !dataSource.isReady());
    return !loadingCell && !loadingChart;
}

async function checkDashboard(name, keyFigures) {
    const action = dashboardAction();
    const dashboard = action?.state.activeDashboard;
    if (!dashboard || dashboard.displayName !== name) {
        throw new Error(`The dashboard "${name}" is not the one shown.`);
    }
    const model = dashboard.model;
    const start = Date.now();
    // Touch every chart so that its data loads, then wait for cells and charts.
    for (const { dataSource } of odooCharts(model)) {
        dataSource.getData();
    }
    while (!isLoaded(model)) {
        if (Date.now() - start > LOAD_TIMEOUT) {
            throw new Error(`The dashboard "${name}" is still loading its data.`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const problems = [];
    for (const { ref, cell } of evaluatedCells(model)) {
        if (cell.type === "error") {
            problems.push(`${ref}: ${cell.value} ${cell.message || ""}`);
        }
    }
    for (const { id, type, dataSource } of odooCharts(model)) {
        if (!dataSource.isValid()) {
            problems.push(`chart ${type} ${id} could not load its data`);
        } else if (!dataSource.getData().datasets.length) {
            problems.push(`chart ${type} ${id} has no data`);
        }
    }
    const { getters } = model;
    for (const ref of keyFigures) {
        const [sheetName, xc] = ref.split("!");
        const sheetId = getters.getSheetIdByName(sheetName);
        const col = xc.charCodeAt(0) - 65;
        const row = Number(xc.slice(1)) - 1;
        const { value } = getters.getEvaluatedCell({ sheetId, col, row });
        if (typeof value !== "number" || !(value > 0)) {
            problems.push(`${ref} shows ${JSON.stringify(value)}, expected a positive number`);
        }
    }
    if (problems.length) {
        throw new Error(`Dashboard "${name}":\n${problems.join("\n")}`);
    }
}

/**
 * @param {string} name the dashboard's name in the Dashboards app
 * @param {string[]} keyFigures cells ("Data!B2") that must show a positive number
 */
export function openDashboardSteps(name, keyFigures = []) {
    const action = ".o_spreadsheet_dashboard_action";
    return [
        {
            content: `Open the ${name} dashboard`,
            trigger: `${action} .o_search_panel_category_value[data-name='${name}']`,
            run: "click",
        },
        {
            content: "It is the one selected",
            trigger: `${action} .o_search_panel_category_value.active[data-name='${name}']`,
        },
        {
            content: "The spreadsheet is drawn, with its scorecards",
            trigger: `${action}:not(:has(.dashboard-loading-status)) .o_renderer .o-spreadsheet .o-figure canvas.o-scorecard`,
        },
        {
            content: "Its figures, charts and tables compute without error",
            trigger: `${action} .o_renderer .o-spreadsheet .o-figure .o-chart-container`,
            run: () => checkDashboard(name, keyFigures),
        },
        {
            content: "No error dialog",
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ];
}
